package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeExample is the config file example of the README, so the documentation stays true.
func readmeExample(t *testing.T) []byte {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "#### The config file")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	example, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no yaml block under '#### The config file'")
	}
	return []byte(example)
}

func TestParseExample(t *testing.T) {
	cfg, err := Parse(readmeExample(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Prometheus.URL != "http://prometheus.monitoring:9090" || cfg.Interval != 15*time.Second {
		t.Errorf("prometheus %+v interval %s", cfg.Prometheus, cfg.Interval)
	}
	if cfg.Thresholds.MaxErrorRate != 0.01 || cfg.Thresholds.MaxP95 != 300*time.Millisecond {
		t.Errorf("thresholds %+v", cfg.Thresholds)
	}
	if _, ok := cfg.Presets.Get("gateway"); !ok {
		t.Errorf("custom preset missing from %v", cfg.Presets.Names())
	}
	if _, ok := cfg.Presets.Get("django_prometheus"); !ok {
		t.Errorf("built-in presets missing from %v", cfg.Presets.Names())
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	cases := map[string]string{
		"prometheus:\n  ulr: http://x\n":                           `unknown field "ulr"`,
		"prometheus:\n  url: http://x\n  service: a/b:9090\n":      "url or service, not both",
		"prometheus:\n  interval: soon\n":                          "prometheus.interval",
		"prometheus:\n  preset: statsd\n":                          `prometheus.preset "statsd" is not known`,
		"thresholds:\n  maxErrorRate: 5\n":                         "thresholds.maxErrorRate 5: want a fraction",
		"thresholds:\n  maxP95Latency: fast\n":                     `thresholds.maxP95Latency "fast"`,
		"presets:\n  mine:\n    requests: sum(x)\n    errors: y\n": `presets: preset "mine": requests must group by pod`,
		"prometheus: [": "converting YAML",
	}
	for text, want := range cases {
		if _, err := Parse([]byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv(EnvPath, "")
	if cfg, err := Load(""); err != nil || cfg.Path != "" || len(cfg.Presets.Names()) != 4 {
		t.Errorf("no file at the default path: %+v, %v; want defaults and no error", cfg, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a named file that is missing: %v", err)
	}
	path := filepath.Join(dir, "pyroll", "config.yaml")
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte("thresholds:\n  maxErrorRate: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(""); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a broken default file must be reported with its path: %v", err)
	}
	t.Setenv(EnvPath, filepath.Join(dir, "env.yaml"))
	_ = os.WriteFile(filepath.Join(dir, "env.yaml"), []byte("prometheus:\n  service: monitoring/prometheus:9090\n"), 0o644)
	if cfg, err := Load(""); err != nil || cfg.Prometheus.Service != "monitoring/prometheus:9090" {
		t.Errorf("$PYROLL_CONFIG: %+v, %v", cfg, err)
	}
}

func TestParseBakeTime(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want *time.Duration
		err  string
	}{
		{"{}", nil, ""},
		{"bake: {time: 20m}", ptr(20 * time.Minute), ""},
		{"bake: {time: \"0\"}", ptr(time.Duration(0)), ""},
		{"bake: {time: later}", nil, "bake.time"},
	} {
		cfg, err := Parse([]byte(c.yaml))
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v; want one naming %s", c.yaml, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.yaml, err)
		case (cfg.BakeTime == nil) != (c.want == nil) || (c.want != nil && *cfg.BakeTime != *c.want):
			t.Errorf("%s: bake time %v; want %v", c.yaml, cfg.BakeTime, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Each context may name its own Prometheus; the others use the file's one; a context
// entry names url or service (not both, not neither) and no interval of its own.
func TestContextsNameTheirPrometheus(t *testing.T) {
	cfg, err := Parse([]byte(`
prometheus:
  url: http://prometheus.global:9090
  preset: flask_exporter
contexts:
  prod-eu:
    prometheus:
      url: http://prometheus.eu:9090
  prod-us:
    prometheus:
      service: monitoring/prometheus:9090
      preset: auto
`))
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.PrometheusFor("prod-eu"); p.URL != "http://prometheus.eu:9090" || p.Preset != "flask_exporter" {
		t.Errorf("prod-eu: %+v (its URL, the file's preset)", p)
	}
	if p := cfg.PrometheusFor("prod-us"); p.Service != "monitoring/prometheus:9090" || p.URL != "" || p.Preset != "auto" {
		t.Errorf("prod-us: %+v", p)
	}
	if p := cfg.PrometheusFor("staging"); p.URL != "http://prometheus.global:9090" {
		t.Errorf("a context without an entry: %+v", p)
	}
	for doc, want := range map[string]string{
		"contexts: {eu: {prometheus: {url: http://a:1, service: m/p:9090}}}": "contexts.eu.prometheus: give url or service, not both",
		"contexts: {eu: {prometheus: {}}}":                                   "contexts.eu.prometheus: give its url or its service",
		"contexts: {eu: {prometheus: {url: http://a:1, interval: 5s}}}":      "one interval serves every context",
		"contexts: {eu: {prometheus: {url: http://a:1, preset: nope}}}":      `contexts.eu.prometheus.preset "nope" is not known`,
		"contexts: {eu: {promethus: {url: http://a:1}}}":                     "promethus",
	} {
		if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", doc, err, want)
		}
	}
}
