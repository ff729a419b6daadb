package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

// ScrapeInterval is how often the sandbox's Prometheus scrapes the sample pods: short, so
// tests and the demo see rates within seconds.
const ScrapeInterval = 2 * time.Second

func (s *Sandbox) startPrometheus(ctx context.Context, p ports) error {
	targets := s.path("prometheus", "targets.json")
	if err := writeFileAtomic(targets, []byte("[]\n")); err != nil {
		return err
	}
	config := s.path("prometheus", "prometheus.yml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
- job_name: sample-pods
  file_sd_configs:
  - files: [%[2]q]
    refresh_interval: %[1]s
`, ScrapeInterval, targets)), 0o644); err != nil {
		return err
	}
	s.PrometheusURL = "http://" + hostPort(p.prometheus)
	s.prometheusArgs = []string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + s.path("prometheus", "data"),
		"--storage.tsdb.retention.time=6h",
		"--web.listen-address=" + hostPort(p.prometheus),
		"--log.level=warn",
	}
	return s.StartPrometheus(ctx)
}

// StartPrometheus starts Prometheus (again, after StopPrometheus) on the same port and
// data, and waits until it is ready.
func (s *Sandbox) StartPrometheus(ctx context.Context) error {
	proc, err := s.launch("prometheus", prometheusBin, s.prometheusArgs)
	if err != nil {
		return err
	}
	err = waitFor(ctx, "prometheus", proc, 60*time.Second, func(ctx context.Context) error {
		return httpExpect(ctx, http.DefaultClient, s.PrometheusURL+"/-/ready", "Ready")
	})
	if err == nil {
		s.logf("prometheus ready on %s", s.PrometheusURL)
	}
	return err
}

// StopPrometheus stops Prometheus, leaving everything else running.
func (s *Sandbox) StopPrometheus() { s.stopComponent("prometheus") }

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
