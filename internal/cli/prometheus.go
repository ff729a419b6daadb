package cli

import (
	"fmt"
	"net/url"
	"os"
	"regexp"

	"k8s.io/client-go/rest"

	"github.com/pyroll/kubectl-pyroll/internal/config"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics/promclient"
	"github.com/pyroll/kubectl-pyroll/internal/redact"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// serviceRef is NAMESPACE/NAME:PORT, with an optional https: before NAME as the API
// server's service proxy spells it.
var serviceRef = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)/((https?:)?[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9]*[a-z0-9])?)$`)

// hasPrometheus reports whether a flag, the environment or the config file says where
// Prometheus is.
func (o *Options) hasPrometheus() bool {
	return o.PrometheusURL != "" || o.PrometheusService != "" || o.Config.Prometheus.URL != "" || o.Config.Prometheus.Service != "" || len(o.Config.Contexts) > 0
}

// prometheus is the metrics client the flags, the environment and the config file
// describe, in that order of precedence; nil when none does.
func (o *Options) prometheus(cluster *kube.Cluster) (*promclient.Client, error) {
	contextName := ""
	if cluster != nil {
		contextName = cluster.Context
	}
	fromFile := o.Config.PrometheusFor(contextName)
	opts := promclient.Options{Presets: o.Config.Presets, Preset: fromFile.Preset}
	urlFlag, serviceFlag := o.PrometheusURL, o.PrometheusService
	if urlFlag == "" && serviceFlag == "" {
		urlFlag, serviceFlag = fromFile.URL, fromFile.Service
	}
	switch {
	case urlFlag != "":
		if u, err := url.Parse(urlFlag); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Named by scheme and host only: the URL may carry a password or a token.
			return nil, usageError("prometheus URL %s: want http(s)://HOST:PORT, e.g. http://prometheus.monitoring:9090", redact.URL(urlFlag, ""))
		}
		opts.URL = urlFlag
	case serviceFlag != "":
		m := serviceRef.FindStringSubmatch(serviceFlag)
		if m == nil {
			return nil, usageError("prometheus service %q: want NAMESPACE/NAME:PORT, e.g. monitoring/prometheus-k8s:9090", serviceFlag)
		}
		transport, err := rest.TransportFor(cluster.Config)
		if err != nil {
			return nil, fmt.Errorf("prometheus through the API server: %w", err)
		}
		// The API server's service proxy: only the API server needs to be reachable.
		opts.URL = fmt.Sprintf("%s/api/v1/namespaces/%s/services/%s/proxy", cluster.Config.Host, m[1], m[3])
		opts.Name = fmt.Sprintf("service %s/%s through the API server %s", m[1], m[3], redact.URL(cluster.Config.Host, ""))
		opts.Transport = transport
	default:
		return nil, nil
	}
	client, err := promclient.NewWithOptions(opts)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return client, nil
}

// loadConfig reads the config file and lets it fill what no flag set.
func (o *Options) loadConfig(intervalFlagSet bool) error {
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		return usageError("%v", err)
	}
	o.Config = cfg
	if !intervalFlagSet && cfg.Interval > 0 {
		o.MetricsInterval = cfg.Interval
	}
	o.BakeTime = rollout.DefaultBakeTime
	if cfg.BakeTime != nil {
		o.BakeTime = *cfg.BakeTime
	}
	if v, ok := os.LookupEnv(BakeTimeEnv); ok && v != "" {
		d, err := rollout.ParseBakeTime(v)
		if err != nil {
			return usageError("%s=%q: %v", BakeTimeEnv, v, err)
		}
		o.BakeTime = d
	}
	return nil
}
