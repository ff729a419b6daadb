package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

type fakeMetrics struct{ report metrics.Report }

func (f fakeMetrics) Report(context.Context, string, []rollout.Rollout, time.Time) metrics.Report {
	return f.report
}

func withMetrics(t *testing.T, report metrics.Report) Model {
	t.Helper()
	m := newConsole(t, 100, 30, styles.Options{})
	m.opts.Metrics = fakeMetrics{report}
	return send(m, m.pollMetrics()())
}

func revKey(name string, rev int64) metrics.Key {
	return metrics.Key{Namespace: "demo", Name: name, Revision: rev}
}

func TestErrorRatesCanaryAgainstStable(t *testing.T) {
	m := withMetrics(t, metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
		revKey("orders-api", 2):   {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5, P95: 140 * time.Millisecond, History: []float64{0.01, 0.03, 0.05}},
		revKey("orders-api", 1):   {State: metrics.StateOK, ErrorRate: 0.005, RequestRate: 20},
		revKey("search-api", 2):   {State: metrics.StateNoData},
		revKey("search-api", 1):   {State: metrics.StateOK, ErrorRate: 0.002, RequestRate: 15},
		revKey("payments-api", 1): {State: metrics.StateNoTraffic},
	}})
	s := text(m)
	for name, want := range map[string]string{"orders-api": "5.0/0.5", "search-api": "n/a/0.2", "payments-api": "idle"} {
		if !strings.Contains(rowIn(s, name), want) {
			t.Errorf("%s row lacks %q:\n%s", name, want, s)
		}
	}
	detail := text(send(m, press("j"), press("enter")))
	if !strings.Contains(detail, "5.0% errors") || !strings.Contains(detail, "p95 140ms") || !strings.Contains(detail, "▂▅█") {
		t.Errorf("detail lacks the canary's numbers and sparkline:\n%s", detail)
	}
}

func TestUnreachablePrometheusIsSaid(t *testing.T) {
	m := withMetrics(t, metrics.Report{At: clock, Err: errors.New("prometheus at http://x: connection refused"),
		Revisions: map[metrics.Key]metrics.Revision{revKey("orders-api", 2): {State: metrics.StateUnreachable}}})
	if s := text(m); !strings.Contains(s, "metrics unreachable: prometheus at http://x: connection refused") || !strings.Contains(rowIn(s, "orders-api"), "?") {
		t.Errorf("unreachable metrics should say so and show ?, never 0:\n%s", s)
	}
}

func rowIn(screen, name string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}
