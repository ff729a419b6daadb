//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// Error rates in the console against the real Prometheus: an idle service says so, and
// Prometheus going away is said at once (everything else stays live) and recovers.
func TestConsoleMetricsStates(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	busy, _ := releaseV1V2(ns, "busy-api")
	busy.ErrorRate = 0.02
	idle, _ := releaseV1V2(ns, "idle-api")
	idle.NoTraffic = true
	applyComplete(t, busy)
	applyComplete(t, idle)

	pane := startTmux(t, 120, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " --prometheus-url " + sb.PrometheusURL + " --metrics-interval 2s -n " + ns)
	pane.key("Enter")
	hasRate := func(s string) bool {
		fields := strings.Fields(rowOf(s, "busy-api"))
		for _, f := range fields {
			if strings.Contains(f, ".") && !strings.Contains(f, "/") && f != "–" {
				return true
			}
		}
		return false
	}
	pane.waitScreen("busy-api with an error rate, idle-api idle (never 0%)", func(s string) bool {
		return hasRate(s) && strings.Contains(rowOf(s, "idle-api"), "idle") && strings.Contains(s, "metrics prometheus_client")
	})

	sb.StopPrometheus()
	pane.waitScreen("metrics unreachable, the rollouts still live", func(s string) bool {
		return strings.Contains(s, "metrics unreachable") && strings.Contains(s, "live") &&
			strings.Contains(rowOf(s, "busy-api"), " ? ") && strings.Contains(s, "Complete")
	})
	if err := sb.StartPrometheus(context.Background()); err != nil {
		t.Fatal(err)
	}
	pane.waitScreen("error rates back after Prometheus restarts", func(s string) bool {
		return hasRate(s) && strings.Contains(s, "metrics prometheus_client")
	})
}
