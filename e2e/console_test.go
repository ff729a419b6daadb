//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// The console as a person uses it: in a real terminal (tmux), against the sandbox.
func TestConsoleInATerminal(t *testing.T) {
	sb := sandboxtest.Get(t)
	extra := workload.Release{Namespace: demo.Namespace, Name: "tmux-api", Image: "ghcr.io/acme/tmux:1.0.0", Version: "1.0.0", GitSHA: "7e57", Replicas: 2}
	applyComplete(t, extra)
	t.Cleanup(func() {
		_ = sb.Client().AppsV1().Deployments(demo.Namespace).Delete(context.Background(), "tmux-api", metav1.DeleteOptions{})
	})

	pane := startTmux(t, 80, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " --prometheus-url " + sb.PrometheusURL + " --metrics-interval 2s -n demo; echo CONSOLE-EXITED-$?")
	pane.key("Enter")

	// The services with their phases, trouble first. search-api's crash loop is Degraded, or
	// Failed once its 120 s progress deadline has passed since the demo was seeded.
	s := pane.waitScreen("the demo rollouts", func(s string) bool {
		search := rowOf(s, "search-api")
		return containsAll("orders-api", "Halted", "payments-api", "Complete", "tmux-api", "live")(s) &&
			(strings.Contains(search, "Degraded") || strings.Contains(search, "Failed"))
	})
	if strings.Index(s, "search-api") > strings.Index(s, "payments-api") {
		t.Errorf("Degraded search-api should be listed before Complete payments-api:\n%s", s)
	}

	// The error rates from the real Prometheus and Python pods: orders-api's canary serves
	// 5% errors, its stable 0.5% (within one percentage point).
	pane.waitScreen("orders-api's canary and stable error rates", func(s string) bool {
		canary, stable, ok := errorRates(rowOf(s, "orders-api"))
		return ok && canary >= 4 && canary <= 6 && stable >= 0 && stable <= 1.5
	})

	// Open search-api (first row) and read why its canary fails.
	pane.key("Enter")
	pane.waitScreen("search-api's detail with the crashing pod's exception", containsAll("REVISIONS", "CrashLoopBackOff", "ModuleNotFoundError: No module named 'orjson'"))
	pane.key("Escape")
	pane.waitScreen("back to the list", containsAll("NAME", "PHASE", "payments-api"))

	// Filter.
	pane.keys("/pay")
	pane.waitScreen("only payments-api", func(s string) bool {
		return strings.Contains(s, "payments-api") && !strings.Contains(s, "search-api")
	})
	pane.key("Escape")
	pane.waitScreen("the filter cleared", containsAll("search-api", "payments-api"))

	// Smaller, then back.
	pane.resize(60, 20)
	s = pane.waitScreen("the list at 60x20 without the reserved columns", func(s string) bool {
		return strings.Contains(s, "search-api") && !strings.Contains(s, "GUARD")
	})
	for _, line := range strings.Split(s, "\n") {
		if utf8.RuneCountInString(line) > 60 {
			t.Errorf("line wider than the 60-column window: %q", line)
		}
	}
	pane.resize(80, 24)
	// At 80 columns BUILD has gone and the verdict stays (README: "is it breaching" first).
	pane.waitScreen("the list at 80x24 again", containsAll("GUARD", "search-api"))

	// A new release, started with kubectl, shows without a key press.
	before := rowOf(pane.screen(), "tmux-api")
	set := exec.Command("kubectl", "--kubeconfig", sb.Kubeconfig, "-n", "demo", "set", "image", "deployment/tmux-api", "app=ghcr.io/acme/tmux:2.0.0")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("kubectl set image: %v\n%s", err, out)
	}
	pane.waitScreen("tmux-api on revision 2", func(s string) bool {
		fields := strings.Fields(rowOf(s, "tmux-api"))
		return len(fields) > 3 && (fields[3] == "1→2" || fields[3] == "2")
	})
	if before == rowOf(pane.screen(), "tmux-api") {
		t.Errorf("the tmux-api row did not change")
	}

	// q quits and gives the terminal back to the shell.
	pane.keys("q")
	s = pane.waitScreen("the shell again", containsAll("CONSOLE-EXITED-0", "$ "))
	if strings.Contains(s, "PHASE") {
		t.Errorf("the console is still on screen after q:\n%s", s)
	}
}

// errorRates reads the ERR% cell ("5.0/0.5") of a list row.
func errorRates(row string) (canary, stable float64, ok bool) {
	m := regexp.MustCompile(`\s(\d+\.\d)/(\d+\.\d)\s`).FindStringSubmatch(row)
	if m == nil {
		return 0, 0, false
	}
	canary, _ = strconv.ParseFloat(m[1], 64)
	stable, _ = strconv.ParseFloat(m[2], 64)
	return canary, stable, true
}
