//go:build e2e

package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// The fault tests (issue 16, "Faults"): the console in a real terminal while the control
// plane, Prometheus, the credentials or the terminal itself fail. Those that stop a
// component run on a sandbox of their own. They assert the order of what the screen shows,
// never how fast: every wait has a generous limit that only guards against a hang.

// faultNamespace is where a fault test's own sandbox keeps its workloads.
const faultNamespace = "faults"

// faultSandbox starts a small sandbox of the test's own (one node, no Argo) with the
// namespace faultNamespace.
func faultSandbox(t *testing.T, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	opts.NoArgo, opts.Nodes = true, 1
	sb := sandboxtest.Start(t, opts)
	if err := workload.EnsureNamespace(context.Background(), sb.Client(), faultNamespace); err != nil {
		t.Fatal(err)
	}
	return sb
}

// faultRelease is a small sample service in faultNamespace, applied and complete.
func faultRelease(t *testing.T, sb *sandbox.Sandbox, name string, replicas int32) workload.Release {
	t.Helper()
	r := workload.Release{Namespace: faultNamespace, Name: name, Image: "ghcr.io/acme/" + name + ":1.0.0", Version: "1.0.0", GitSHA: "fa17ed1", Replicas: replicas, NoTraffic: true}
	if _, err := r.Apply(context.Background(), sb.Client()); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(context.Background(), sb.Client(), r.Namespace, r.Name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
	return r
}

// startConsole opens the console in a terminal of its own (wide enough for the footer's
// message) and returns the terminal; the shell prints CONSOLE-EXITED-<code> when it ends.
func startConsole(t *testing.T, kubeconfig string, args ...string) *tmuxPane {
	t.Helper()
	pane := startTmux(t, 180, 30)
	pane.keys(pyrollBinary() + " --kubeconfig " + kubeconfig + " " + strings.Join(args, " ") + "; echo CONSOLE-EXITED-$?")
	pane.key("Enter")
	return pane
}

// outage is how long a fault test keeps a component down: about what a restart takes.
const outage = 20 * time.Second

var reconnectingAge = regexp.MustCompile(`reconnecting ((?:\d+h)?(?:\d+m)?\d+s)`)

// reconnecting reads the footer's "reconnecting 12s": its age, and whether it is there.
func reconnecting(screen string) (time.Duration, bool) {
	m := reconnectingAge.FindStringSubmatch(screen)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}

// isLive says whether the footer says live (and nothing else about the connection).
func isLive(screen string) bool {
	_, recon := reconnecting(screen)
	return !recon && regexp.MustCompile(`(^|\s)live(\s|$)`).MatchString(screen)
}

// rowFields are the words of name's row in the list.
func rowFields(screen, name string) []string { return strings.Fields(rowOf(screen, name)) }

// rowSays says whether name's row holds every one of words.
func rowSays(screen, name string, words ...string) bool {
	row := rowOf(screen, name)
	if row == "" {
		return false
	}
	for _, w := range words {
		if !strings.Contains(row, w) {
			return false
		}
	}
	return true
}

// The API server restarts under the console: the footer counts the reconnect while the last
// state stays on screen; once the API server is back, a change made then shows, and once
// live the console never shows a state from before the restart.
func TestFaultAPIServerRestart(t *testing.T) {
	sb := faultSandbox(t, sandbox.Options{})
	faultRelease(t, sb, "steady-api", 2)
	pane := startConsole(t, sb.Kubeconfig, "-n", faultNamespace)
	pane.waitScreen("steady-api Complete, live", func(s string) bool {
		return rowSays(s, "steady-api", "Complete", "2/2") && isLive(s)
	})

	sb.StopAPIServer()
	down := pane.waitScreen("reconnecting, with the last state on screen", func(s string) bool {
		_, ok := reconnecting(s)
		return ok && rowSays(s, "steady-api", "Complete", "2/2")
	})
	firstAge, _ := reconnecting(down)
	// The scenario: an API server down for 20 s or so, as a real restart takes; the
	// footer's age says when that is reached.
	pane.waitScreen("the reconnect's age counting up to 20s, the last state still on screen", func(s string) bool {
		age, ok := reconnecting(s)
		return ok && age > firstAge && age >= outage && rowSays(s, "steady-api", "Complete", "2/2")
	})

	if err := sb.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	// A change the console can learn only from the API server that came back.
	ctx := context.Background()
	if err := workload.SetPaused(ctx, sb.Client(), faultNamespace, "steady-api", true); err != nil {
		t.Fatal(err)
	}
	afterChange := pane.screen()
	_, stillReconnecting := reconnecting(afterChange)

	var screens []string
	pane.waitScreen("live again, steady-api Halted", func(s string) bool {
		screens = append(screens, s)
		return isLive(s) && rowSays(s, "steady-api", "Halted")
	})
	t.Logf("live with the change %s after the API server's return (reconnecting when the change was made: %v)", time.Since(returned).Round(100*time.Millisecond), stillReconnecting)
	// The order of facts: when the console was still reconnecting after the change was made,
	// its first live screen already shows the change: live never means the old picture.
	if stillReconnecting {
		for _, s := range screens {
			if isLive(s) && !rowSays(s, "steady-api", "Halted") {
				t.Fatalf("the console said live while showing the state from before the restart:\n%s", s)
			}
		}
	}
	// And it stays right: no late snapshot from before the restart comes back.
	consistently(t, 3*time.Second, "steady-api stays Halted and live", func() error {
		if s := pane.screen(); !isLive(s) || !rowSays(s, "steady-api", "Halted") {
			return errorf("screen:\n%s", s)
		}
		return nil
	})
}
