//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// A release whose pod runs but never passes readiness, and nothing else happens: no crash,
// no event. Past --not-ready-grace the rollout is Degraded, by the clock alone, in
// `status --watch` (exit 1) and in the console.
func TestNotReadyPastTheGraceIsDegradedWithoutAnEvent(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "slow-api")
	applyComplete(t, v1)
	v2.NeverReady, v2.ProgressDeadlineSeconds = true, 7200
	if _, err := v2.Apply(context.Background(), sb.Client()); err != nil {
		t.Fatal(err)
	}

	pane := startTmux(t, 120, 30)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " --not-ready-grace 15s -n " + ns)
	pane.key("Enter")

	stdout, stderr, code := runPyroll(t, 3*time.Minute, sb.Kubeconfig, "-n", ns, "status", "slow-api", "--watch", "--not-ready-grace", "15s")
	flat := strings.Join(strings.Fields(stdout), " ")
	if code != 1 || !strings.Contains(flat, "Degraded") || !strings.Contains(flat, "canary pods not ready for") {
		t.Fatalf("exit %d; want 1 with Degraded, not ready\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(flat, "Progressing") {
		t.Errorf("the watch should have seen the rollout Progressing within the grace first:\n%s", stdout)
	}
	pane.waitScreen("slow-api Degraded in the console", func(s string) bool {
		return strings.Contains(rowOf(s, "slow-api"), "Degraded")
	})
}
