//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	restartUnderConsole(t, sb, "the API server", sb.StopAPIServer, sb.StartAPIServer)
}

// etcd restarts under the API server, which keeps answering and holds its watches open,
// silent: the same checks (the console learns it from the API server's readiness).
func TestFaultEtcdRestart(t *testing.T) {
	sb := faultSandbox(t, sandbox.Options{})
	restartUnderConsole(t, sb, "etcd", sb.StopEtcd, sb.StartEtcd)
}

// restartUnderConsole stops a component of sb (what) under a console watching a complete
// Deployment, keeps it down for outage, starts it again, halts the Deployment and checks the
// order of what the console shows.
func restartUnderConsole(t *testing.T, sb *sandbox.Sandbox, what string, stop func(), start func(context.Context) error) {
	t.Helper()
	ctx := context.Background()
	faultRelease(t, sb, "steady-api", 2)
	pane := startConsole(t, sb.Kubeconfig, "-n", faultNamespace)
	pane.waitScreen("steady-api Complete, live", func(s string) bool {
		return rowSays(s, "steady-api", "Complete", "2/2") && isLive(s)
	})

	stop()
	down := pane.waitScreen("reconnecting, with the last state on screen", func(s string) bool {
		_, ok := reconnecting(s)
		return ok && rowSays(s, "steady-api", "Complete", "2/2")
	})
	t.Logf("%s down: %s", what, footerLine(down))
	firstAge, _ := reconnecting(down)
	// The scenario: down for about as long as a real restart takes; the footer's age says
	// when that is reached, and it must count up meanwhile.
	pane.waitScreen("the reconnect's age counting up to the outage's length, the last state still on screen", func(s string) bool {
		age, ok := reconnecting(s)
		return ok && age > firstAge && age >= outage && rowSays(s, "steady-api", "Complete", "2/2")
	})

	if err := start(ctx); err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	// A change the console can learn only from the control plane that came back (the write
	// itself waits until the API server reaches etcd again).
	if err := workload.SetPaused(ctx, sb.Client(), faultNamespace, "steady-api", true); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	_, reconnectingAfterChange := reconnecting(pane.screen())
	var screens []string
	last := ""
	pane.waitScreen("live again, steady-api Halted", func(s string) bool {
		if f := footerLine(s); f != last {
			t.Logf("%s after %s's return: %s | %s", time.Since(returned).Round(100*time.Millisecond), what, f, strings.Join(rowFields(s, "steady-api"), " "))
			last = f
		}
		screens = append(screens, s)
		return isLive(s) && rowSays(s, "steady-api", "Halted")
	})
	t.Logf("halted %s after %s's return; live with it %s later (reconnecting when it was halted: %v)",
		changed.Sub(returned).Round(100*time.Millisecond), what, time.Since(changed).Round(100*time.Millisecond), reconnectingAfterChange)
	// The order of facts: when the console was still reconnecting after the change was made,
	// its first live screen already shows the change: live never shows the old picture.
	if reconnectingAfterChange {
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

// footerLine is the screen's line that says how fresh the picture is.
func footerLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "live") || strings.Contains(l, "reconnecting") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// listedRollouts are the names of the list's rows, in order.
func listedRollouts(screen string) []string {
	var names []string
	inList := false
	for _, line := range strings.Split(screen, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) > 1 && fields[0] == "NAME" && fields[1] == "PHASE":
			inList = true
		case !inList:
		case len(fields) == 0:
			return names
		default:
			names = append(names, fields[0])
		}
	}
	return names
}

// A partition: the console is cut off from the API server (its connections reset) while a
// Deployment is deleted, another created and a third promoted. Once it reaches the API
// server again it reads everything again before it says live: never live with the picture
// from before the partition, and no row of a deleted Deployment.
func TestFaultPartitionRereadsBeforeLive(t *testing.T) {
	sb := faultSandbox(t, sandbox.Options{})
	ctx := context.Background()
	faultRelease(t, sb, "keep-api", 1)
	faultRelease(t, sb, "gone-api", 1)
	proxy := startTCPProxy(t, strings.TrimPrefix(sb.APIServerURL, "https://"))
	pane := startConsole(t, proxy.kubeconfig(sb.Kubeconfig), "-n", faultNamespace)
	pane.waitScreen("keep-api and gone-api, live", func(s string) bool {
		return rowSays(s, "keep-api", "Complete") && rowSays(s, "gone-api", "Complete") && isLive(s)
	})
	if err := workload.SetPaused(ctx, sb.Client(), faultNamespace, "keep-api", true); err != nil {
		t.Fatal(err)
	}
	pane.waitScreen("keep-api Halted", func(s string) bool { return rowSays(s, "keep-api", "Halted") && isLive(s) })

	proxy.cut()
	pane.waitScreen("reconnecting, with the last state", func(s string) bool {
		_, ok := reconnecting(s)
		return ok && rowSays(s, "gone-api", "Complete") && rowSays(s, "keep-api", "Halted")
	})
	changeWhileAway(t, sb)
	proxy.heal()
	var screens []string
	final := pane.waitScreen("live, without gone-api, with new-api, keep-api Complete", func(s string) bool {
		screens = append(screens, s)
		return isLive(s) && afterTheChanges(s)
	})
	// Every change was made before the console could reconnect: no live screen shows a row
	// from before them.
	for _, s := range screens {
		if isLive(s) && !afterTheChanges(s) {
			t.Fatalf("live with the picture from before the partition:\n%s", s)
		}
	}
	rowsAreTheCluster(t, sb, final)
}

// changeWhileAway deletes gone-api, creates new-api and promotes keep-api (halted), with the
// admin client, in faultNamespace.
func changeWhileAway(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	ctx := context.Background()
	if err := sb.Client().AppsV1().Deployments(faultNamespace).Delete(ctx, "gone-api", deleteNow); err != nil {
		t.Fatal(err)
	}
	faultRelease(t, sb, "new-api", 1)
	if err := workload.SetPaused(ctx, sb.Client(), faultNamespace, "keep-api", false); err != nil {
		t.Fatal(err)
	}
}

// afterTheChanges says whether the screen shows what changeWhileAway did.
func afterTheChanges(s string) bool {
	return rowSays(s, "keep-api", "Complete") && rowSays(s, "new-api", "Complete") && rowOf(s, "gone-api") == ""
}

// rowsAreTheCluster checks that the list's rows are the Deployments of faultNamespace, no
// more, no less.
func rowsAreTheCluster(t *testing.T, sb *sandbox.Sandbox, screen string) {
	t.Helper()
	list, err := sb.Client().AppsV1().Deployments(faultNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range list.Items {
		want = append(want, d.Name)
	}
	got := listedRollouts(screen)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rows %v, cluster %v:\n%s", got, want, screen)
	}
}

// A watch that expires: the API server ends the console's watches (as at their timeout)
// and, before they resume, a Deployment is deleted, another created, a third promoted, and
// etcd's history compacted past what the console saw; the API server serves watches from
// etcd (--watch-cache=false), so the watch of Deployments, resumed from its resource
// version, gets 410 Gone ("too old resource version"). The console reads them all again and
// shows the cluster as it is, without the deleted row.
func TestFaultExpiredWatchRelists(t *testing.T) {
	sb := faultSandbox(t, sandbox.Options{APIServerArgs: []string{"--watch-cache=false"}})
	ctx := context.Background()
	faultRelease(t, sb, "keep-api", 1)
	faultRelease(t, sb, "gone-api", 1)
	proxy := startAPIProxy(t, sb)
	pane := startConsole(t, proxy.kubeconfig(), "-n", faultNamespace)
	pane.waitScreen("keep-api and gone-api, live", func(s string) bool {
		return rowSays(s, "keep-api", "Complete") && rowSays(s, "gone-api", "Complete") && isLive(s)
	})
	// A change the console sees as it happens: its watch of Deployments has delivered an
	// event, so when it ends it resumes from its resource version (client-go reads everything
	// again at once after a watch that ended without any event).
	if err := workload.SetPaused(ctx, sb.Client(), faultNamespace, "keep-api", true); err != nil {
		t.Fatal(err)
	}
	pane.waitScreen("keep-api Halted", func(s string) bool { return rowSays(s, "keep-api", "Halted") && isLive(s) })

	proxy.hold()
	before := len(proxy.received())
	proxy.endWatches()
	waitFor(t, "the console resuming its watch of Deployments (held by the proxy)", func() bool {
		for _, r := range proxy.received()[before:] {
			if isResume(r, "deployments") {
				return true
			}
		}
		return false
	})
	changeWhileAway(t, sb)
	rev, err := sb.CompactEtcd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd compacted at revision %d", rev)
	proxy.release()

	final := pane.waitScreen("live, without gone-api, with new-api, keep-api Complete", func(s string) bool {
		return isLive(s) && afterTheChanges(s)
	})
	rowsAreTheCluster(t, sb, final)
	// It got there through the 410: its resumed watch of Deployments ended in an error, and
	// it read them all again (a list, or a watch that starts with every object).
	resumed, reread := false, false
	since := proxy.received()[before:]
	for _, r := range since {
		switch {
		case isResume(r, "deployments"):
			resumed = true
		case resumed && strings.Contains(r, "/deployments") && (strings.HasPrefix(r, "GET ") || strings.Contains(r, "sendInitialEvents=true")):
			reread = true
		}
	}
	t.Logf("the console's requests since its watches ended:\n%s", strings.Join(since, "\n"))
	if !reread {
		t.Errorf("want the Deployments read again after the resumed watch expired; the console's requests since its watches ended:\n%s", strings.Join(since, "\n"))
	}
}

// isResume says whether a request the proxy received resumes a watch of resource from a
// resource version.
func isResume(request, resource string) bool {
	return strings.HasPrefix(request, "WATCH ") && strings.Contains(request, "/"+resource+"?") &&
		strings.Contains(request, "resourceVersion=") && !strings.Contains(request, "sendInitialEvents=true")
}

// waitFor polls cond every 100ms, for a minute at most (a guard against a hang).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually(t, time.Minute, what, func(context.Context) error {
		if !cond() {
			return errorf("not yet")
		}
		return nil
	})
}

// slowPrometheus answers every request after a delay (then forwards it to Prometheus), and
// counts the requests it holds at once: the most the console ever had in flight.
type slowPrometheus struct {
	url string

	mu                  sync.Mutex
	inFlight, most, all int
}

func startSlowPrometheus(t *testing.T, prometheusURL string, delay time.Duration) *slowPrometheus {
	t.Helper()
	target, err := url.Parse(prometheusURL)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	p := &slowPrometheus{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		p.mu.Lock()
		p.inFlight++
		p.all++
		p.most = max(p.most, p.inFlight)
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.inFlight--
			p.mu.Unlock()
		}()
		// Read the query (a POSTed form) first: only then does the server notice when the
		// client hangs up, and end req's context.
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(delay):
			forward.ServeHTTP(rw, req)
		case <-req.Context().Done(): // the client gave up: it no longer holds the request
		}
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// counts returns the requests received so far and the most held at once.
func (p *slowPrometheus) counts() (all, most int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.all, p.most
}

// Prometheus answers only after 20 s: the queries' deadlines hold (the footer says the
// metrics are unreachable and why, ERR% shows ?), the list stays live and keeps following
// the cluster, and the console never holds more than one round of queries at a time (at
// most two in flight), whatever the number of rounds.
func TestFaultSlowPrometheus(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	ctx := context.Background()
	r := workload.Release{Namespace: ns, Name: "metered-api", Image: "ghcr.io/acme/metered:1.0.0", Version: "1.0.0", GitSHA: "5109e1", Replicas: 1}
	applyComplete(t, r)
	prom := startSlowPrometheus(t, sb.PrometheusURL, 20*time.Second)
	pane := startConsole(t, sb.Kubeconfig, "-n", ns, "--prometheus-url", prom.url, "--metrics-interval", "1s")
	pane.waitScreen("metered-api, live, the metrics unreachable, ERR% ?", func(s string) bool {
		return isLive(s) && strings.Contains(s, "metrics unreachable") && rowSays(s, "metered-api", "Complete", "?")
	})

	// The list follows the cluster meanwhile.
	if err := workload.SetPaused(ctx, sb.Client(), ns, "metered-api", true); err != nil {
		t.Fatal(err)
	}
	s := pane.waitScreen("metered-api Halted, still live, the metrics still unreachable", func(s string) bool {
		return isLive(s) && strings.Contains(s, "metrics unreachable") && rowSays(s, "metered-api", "Halted")
	})
	t.Logf("footer: %s", footerLine(s))

	// Rounds later (one a second was asked for, each takes five seconds or more), never more
	// than one round's queries held at once.
	waitFor(t, "eight queries sent to the slow Prometheus (rounds of five seconds at least)", func() bool {
		all, _ := prom.counts()
		return all >= 8
	})
	all, most := prom.counts()
	t.Logf("%d queries, at most %d at once", all, most)
	if most > 2 {
		t.Errorf("the console held %d queries at once: more than one round's two", most)
	}
	if s := pane.screen(); !isLive(s) || !rowSays(s, "metered-api", "Halted") {
		t.Errorf("the list is no longer live:\n%s", s)
	}
}
