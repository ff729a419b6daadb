//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// The first frame does not wait for the pods: with the pods' list and watch held by a
// proxy in front of the API server (a namespace of tens of thousands of pods, slowed down),
// the console at 80x24 shows every demo rollout from its status, each pods cell reading
// and the footer saying so; once the pods come, the health bars take their place and the
// footer says live.
func TestConsoleShowsEveryRolloutBeforeThePods(t *testing.T) {
	sb := sandboxtest.Get(t)
	// The rollouts the list must show: what `status` (which waits for everything) reads.
	stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "status", "-n", demo.Namespace, "-o", "json")
	if code > 1 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Items) == 0 {
		t.Fatalf("status -o json: %v\n%s", err, stdout)
	}
	var names []string
	for _, it := range doc.Items {
		names = append(names, it.Name)
	}

	proxy := startAPIProxy(t, sb)
	proxy.holdPods()
	pane := startTmux(t, 80, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + proxy.kubeconfig() + " -n " + demo.Namespace + "; echo CONSOLE-EXITED-$?")
	pane.key("Enter")
	everyRow := func(s string, cond func(row string) bool) bool {
		for _, name := range names {
			if row := rowOf(s, name); row == "" || !cond(row) {
				return false
			}
		}
		return true
	}
	s := pane.waitScreen("every demo rollout, its pods reading", func(s string) bool {
		return strings.Contains(s, "reading pods") && everyRow(s, func(row string) bool { return strings.Contains(row, "reading…") })
	})
	t.Logf("before the pods:\n%s", s)
	if isLive(s) {
		t.Errorf("live before the pods were read:\n%s", s)
	}
	asked := false
	for _, r := range proxy.received() {
		if strings.Contains(r, "/pods?") || strings.HasSuffix(r, "/pods") {
			asked = true // held, not answered: the request is recorded as it arrives
		}
	}
	if !asked {
		t.Errorf("the console never asked for the pods; its requests:\n%s", strings.Join(proxy.received(), "\n"))
	}

	proxy.releasePods()
	s = pane.waitScreen("the pods read: no cell reading, live", func(s string) bool {
		return isLive(s) && !strings.Contains(s, "reading") && everyRow(s, func(string) bool { return true })
	})
	t.Logf("after the pods:\n%s", s)

	pane.keys("q")
	pane.waitScreen("the shell again", containsAll("CONSOLE-EXITED-0"))
}
