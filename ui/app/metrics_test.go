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

func TestBreachIsLoud(t *testing.T) {
	m := newConsole(t, 100, 30, styles.Options{})
	rollouts := demoRollouts()
	rollouts[1].Settings = map[string]string{"pyroll.dev/max-error-rate": "0.01"}
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	m.opts.Metrics = fakeMetrics{metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
		revKey("orders-api", 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5},
		revKey("orders-api", 1): {State: metrics.StateOK, ErrorRate: 0.005, RequestRate: 20},
	}}}
	next, cmd := m.Update(m.pollMetrics()())
	m = next.(Model)
	s := text(m)
	if !strings.Contains(rowIn(s, "orders-api"), "5.0/0.5!") || !strings.Contains(s, "BREACH orders-api: canary errors 5.0% > max 1.0%") {
		t.Errorf("a breach should be marked in the row and in a banner:\n%s", s)
	}
	if cmd == nil {
		t.Fatal("no command after a new breach")
	}
	if !anyNew(nil, m.breaches) || anyNew(m.breaches, m.breaches) {
		t.Errorf("the bell rings for a new breach only")
	}
	if len(m.breaches) != 1 {
		t.Errorf("breaches %v, want orders-api", m.breaches)
	}
}
