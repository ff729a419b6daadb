// Package config reads kubectl-pyroll's config file: where Prometheus is, which metrics
// preset to use, custom presets, and default thresholds. Flags and environment variables
// win over it; a Deployment's annotations win over its thresholds and preset.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// EnvPath names the config file in the environment (the --config flag wins).
const EnvPath = "PYROLL_CONFIG"

// File is the config file as written.
type File struct {
	Prometheus Prometheus                    `json:"prometheus"`
	Thresholds Thresholds                    `json:"thresholds"`
	Presets    map[string]metrics.PresetSpec `json:"presets"`
	Bake       Bake                          `json:"bake"`
	// Contexts say what differs per kubeconfig context (several clusters in view): each
	// one's Prometheus.
	Contexts map[string]Context `json:"contexts"`
}

// Context is one kubeconfig context's part of the file.
type Context struct {
	Prometheus Prometheus `json:"prometheus"`
}

// Bake is the bake window of releases without the pyroll.dev/bake-time annotation.
type Bake struct {
	// Time is how long a completed release stays watched, e.g. 15m; "0" turns it off.
	Time string `json:"time"`
}

// Prometheus says where the metrics come from.
type Prometheus struct {
	// URL of Prometheus' HTTP API, e.g. http://prometheus.monitoring:9090.
	URL string `json:"url"`
	// Service reaches Prometheus through the API server's service proxy:
	// NAMESPACE/NAME:PORT.
	Service string `json:"service"`
	// Preset is "auto" (detect per namespace) or a preset's name.
	Preset string `json:"preset"`
	// Interval between two rounds of queries, e.g. 10s.
	Interval string `json:"interval"`
}

// Thresholds are the defaults for Deployments without threshold annotations.
type Thresholds struct {
	MaxErrorRate  float64 `json:"maxErrorRate"`  // e.g. 0.01 for 1%
	MaxP95Latency string  `json:"maxP95Latency"` // e.g. 300ms
}

// Config is the file, checked and parsed.
type Config struct {
	Path       string // "" when there is no file
	Prometheus Prometheus
	Interval   time.Duration // 0: the flag's default
	Thresholds guard.Thresholds
	Presets    metrics.Presets
	// BakeTime is the file's bake.time (nil: not given, the default applies).
	BakeTime *time.Duration
	// Contexts are the Prometheus of each context that names one (contexts.NAME.prometheus:
	// url or service, and its preset); the others use Prometheus.
	Contexts map[string]Prometheus
}

// PrometheusFor is where context's metrics come from: its own entry, else the file's one.
func (c Config) PrometheusFor(context string) Prometheus {
	if p, ok := c.Contexts[context]; ok {
		if p.Preset == "" {
			p.Preset = c.Prometheus.Preset
		}
		return p
	}
	return c.Prometheus
}

// DefaultPath is $XDG_CONFIG_HOME/pyroll/config.yaml (~/.config/... without it), as
// DESIGN.md §2 says.
func DefaultPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "pyroll", "config.yaml")
}

// Load reads the config file at path; with path "" it reads $PYROLL_CONFIG or the default
// path, and a missing default file is no error (everything has a default).
func Load(path string) (Config, error) {
	explicit := path != ""
	if !explicit {
		path = os.Getenv(EnvPath)
		explicit = path != ""
	}
	if !explicit {
		path = DefaultPath()
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return Config{Presets: metrics.Builtin()}, nil
	default:
		return Config{}, fmt.Errorf("config file: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config file %s: %w", path, err)
	}
	cfg.Path = path
	return cfg, nil
}

// Parse checks a config file's contents: unknown fields, bad values and broken custom
// presets are errors that name the field.
func Parse(data []byte) (Config, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		// sigs.k8s.io/yaml goes through JSON and says so; the user wrote YAML.
		msg := err.Error()
		for _, noise := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
			msg = strings.ReplaceAll(msg, noise, "")
		}
		return Config{}, errors.New(msg)
	}
	cfg := Config{Prometheus: f.Prometheus}
	if f.Prometheus.URL != "" && f.Prometheus.Service != "" {
		return Config{}, errors.New("prometheus: give url or service, not both")
	}
	if f.Prometheus.Interval != "" {
		d, err := time.ParseDuration(f.Prometheus.Interval)
		if err != nil || d < time.Second {
			return Config{}, fmt.Errorf("prometheus.interval %q: want a duration of at least 1s, e.g. 10s", f.Prometheus.Interval)
		}
		cfg.Interval = d
	}
	if v := f.Thresholds.MaxErrorRate; v != 0 {
		if _, err := guard.ParseErrorRate(fmt.Sprint(v)); err != nil {
			return Config{}, fmt.Errorf("thresholds.maxErrorRate %v: %w", v, err)
		}
		cfg.Thresholds.MaxErrorRate = v
	}
	if v := f.Thresholds.MaxP95Latency; v != "" {
		d, err := guard.ParseLatency(v)
		if err != nil {
			return Config{}, fmt.Errorf("thresholds.maxP95Latency %q: %w", v, err)
		}
		cfg.Thresholds.MaxP95 = d
	}
	if v := f.Bake.Time; v != "" {
		d, err := rollout.ParseBakeTime(v)
		if err != nil {
			return Config{}, fmt.Errorf("bake.time %q: %w", v, err)
		}
		cfg.BakeTime = &d
	}
	var err error
	if cfg.Presets, err = metrics.NewPresets(f.Presets); err != nil {
		return Config{}, fmt.Errorf("presets: %w", err)
	}
	if p := f.Prometheus.Preset; p != "" && p != "auto" {
		if _, ok := cfg.Presets.Get(p); !ok {
			return Config{}, fmt.Errorf("prometheus.preset %q is not known; use auto or one of %v", p, cfg.Presets.Names())
		}
	}
	for name, c := range f.Contexts {
		field := "contexts." + name + ".prometheus"
		switch {
		case c.Prometheus.URL != "" && c.Prometheus.Service != "":
			return Config{}, fmt.Errorf("%s: give url or service, not both", field)
		case c.Prometheus.URL == "" && c.Prometheus.Service == "":
			return Config{}, fmt.Errorf("%s: give its url or its service", field)
		case c.Prometheus.Interval != "":
			return Config{}, fmt.Errorf("%s.interval: one interval serves every context: set prometheus.interval", field)
		}
		if p := c.Prometheus.Preset; p != "" && p != "auto" {
			if _, ok := cfg.Presets.Get(p); !ok {
				return Config{}, fmt.Errorf("%s.preset %q is not known; use auto or one of %v", field, p, cfg.Presets.Names())
			}
		}
		if cfg.Contexts == nil {
			cfg.Contexts = map[string]Prometheus{}
		}
		cfg.Contexts[name] = c.Prometheus
	}
	return cfg, nil
}
