//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

func TestStatusOfSeededServices(t *testing.T) {
	sb := sandboxtest.Get(t)
	// The error rates come along: orders-api's canary (revision 2) serves 5% errors (the
	// first scrapes may not be in yet: ask again until they are).
	var list cli.StatusList
	var stderr string
	var code int
	eventually(t, 2*time.Minute, "status -o json with orders-api's canary at ~5% errors", func(context.Context) error {
		var stdout string
		stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "status", "-o", "json", "--prometheus-url", sb.PrometheusURL)
		list = cli.StatusList{}
		if err := json.Unmarshal([]byte(stdout), &list); err != nil {
			return errorf("status -o json: %v\n%s", err, stdout)
		}
		for _, item := range list.Items {
			if m, ok := item.Metrics["2"]; item.Name == "orders-api" && ok && m.State == "ok" && m.ErrorRate > 0.03 && m.ErrorRate < 0.07 && m.RequestRate > 0 {
				return nil
			}
		}
		return errorf("orders-api canary metrics not there yet: %s", stdout[:min(len(stdout), 300)])
	})
	if code != cli.ExitFailure {
		t.Errorf("exit code %d with a Degraded rollout in the namespace; want 1 (stderr: %s)", code, stderr)
	}
	got := map[string]cli.StatusItem{}
	for _, r := range list.Items {
		got[r.Name] = r
	}
	check := func(name string, phase rollout.Phase, canary, stable int64, whyContains string) {
		t.Helper()
		r, ok := got[name]
		if !ok {
			t.Errorf("%s missing from status", name)
			return
		}
		if r.Phase != phase || r.CanaryRevision != canary || r.StableRevision != stable || !strings.Contains(string(r.Why), whyContains) {
			t.Errorf("%s: phase %s, revisions %d->%d, why %q; want %s, %d->%d, why containing %q", name, r.Phase, r.StableRevision, r.CanaryRevision, r.Why, phase, stable, canary, whyContains)
		}
	}
	// A completed rollout's one revision is its stable one (rollout.settle).
	check("payments-api", rollout.PhaseComplete, 1, 1, "3/3 available")
	check("orders-api", rollout.PhaseHalted, 2, 1, "halted")
	// Degraded at once; Failed too once its 120s progress deadline passes (other tests may
	// have run first): either way a failure, the cause first.
	if r := got["search-api"]; r.Phase == rollout.PhaseFailed {
		check("search-api", rollout.PhaseFailed, 2, 1, "CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'")
	} else {
		check("search-api", rollout.PhaseDegraded, 2, 1, "CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'")
	}
	if list.Items[0].Name != "search-api" {
		t.Errorf("first rollout %s; trouble (Degraded search-api) should sort first", list.Items[0].Name)
	}

	table, _, _ := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "status")
	for _, line := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		if utf8.RuneCountInString(line) > 80 {
			t.Errorf("table line wider than 80 columns (%d): %q", utf8.RuneCountInString(line), line)
		}
	}
	flat := strings.Join(strings.Fields(table), " ")
	for _, want := range []string{"search-api", string(got["search-api"].Phase), "orders-api", "Halted", "payments-api", "Complete", "No module named 'orjson'"} {
		if !strings.Contains(flat, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func statusLines(t *testing.T, lines []string) []cli.StatusLine {
	t.Helper()
	var out []cli.StatusLine
	for _, l := range lines {
		var probe struct{ Kind string }
		if err := json.Unmarshal([]byte(l), &probe); err != nil {
			t.Fatalf("ndjson line is not JSON: %q", l)
		}
		if probe.Kind != "Deployment" {
			continue
		}
		var s cli.StatusLine
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func releaseV1V2(ns, name string) (workload.Release, workload.Release) {
	v1 := workload.Release{Namespace: ns, Name: name, Image: "ghcr.io/acme/" + name + ":1.0.0", Version: "1.0.0", GitSHA: "c0ffee1", Replicas: 2}
	v2 := v1
	v2.Image, v2.Version, v2.GitSHA = "ghcr.io/acme/"+name+":1.1.0", "1.1.0", "c0ffee2"
	return v1, v2
}

func applyComplete(t *testing.T, r workload.Release) {
	t.Helper()
	sb := sandboxtest.Get(t)
	if _, err := r.Apply(context.Background(), sb.Client()); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(context.Background(), sb.Client(), r.Namespace, r.Name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
}

func TestStatusWatchFollowsReleaseToComplete(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "watch-api")
	applyComplete(t, v1)
	v2.MinReadySeconds = 3 // slow enough that the watch sees it progress
	if _, err := v2.Apply(context.Background(), sb.Client()); err != nil {
		t.Fatal(err)
	}
	watch := startPyroll(t, sb.Kubeconfig, "-n", ns, "status", "watch-api", "--watch", "-o", "ndjson", "--timeout", "3m")
	if code := watch.wait(t, 4*time.Minute); code != 0 {
		t.Fatalf("exit code %d; want 0 once Complete\n%s\n%s", code, strings.Join(watch.output(), "\n"), watch.stderr.String())
	}
	lines := statusLines(t, watch.output())
	if len(lines) < 2 {
		t.Fatalf("want a Progressing line then a Complete one; got:\n%s", strings.Join(watch.output(), "\n"))
	}
	if lines[0].Phase != rollout.PhaseProgressing {
		t.Errorf("first line phase %s; want Progressing", lines[0].Phase)
	}
	last := lines[len(lines)-1]
	if last.Phase != rollout.PhaseComplete || last.CanaryRevision != 2 {
		t.Errorf("last line: phase %s revision %d; want Complete at revision 2", last.Phase, last.CanaryRevision)
	}
	for i := 1; i < len(lines); i++ {
		a, _ := json.Marshal(lines[i-1].Rollout)
		b, _ := json.Marshal(lines[i].Rollout)
		if string(a) == string(b) {
			t.Errorf("lines %d and %d repeat the same rollout state: one line per change only", i-1, i)
		}
	}
}

func TestStatusWatchExitsDegradedBeforeTheDeadline(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "doomed-api")
	applyComplete(t, v1)
	v2.CrashMessage = "Traceback (most recent call last):\n  File \"/app/main.py\", line 1, in <module>\nImportError: cannot import name 'BaseSettings' from 'pydantic'"
	v2.ProgressDeadlineSeconds = 600
	if _, err := v2.Apply(context.Background(), sb.Client()); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runPyroll(t, 3*time.Minute, sb.Kubeconfig, "-n", ns, "status", "doomed-api", "--watch")
	if code != 1 {
		t.Fatalf("exit code %d; want 1 as soon as the canary crash-loops\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if flat := strings.Join(strings.Fields(stdout), " "); !strings.Contains(flat, "Degraded") || !strings.Contains(flat, "ImportError: cannot import name 'BaseSettings'") {
		t.Errorf("output lacks Degraded and the Python exception:\n%s", stdout)
	}
	d, err := sb.Client().AppsV1().Deployments(ns).Get(context.Background(), "doomed-api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			t.Errorf("the progress deadline had already passed: the exit was not early")
		}
	}
}

// A user allowed only to get Deployments gets one clear line, not a hang.
func TestStatusForbiddenIsOneLine(t *testing.T) {
	ns := newNamespace(t)
	kubeconfig := userWithRole(t, ns, "viewer", []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get"}}})
	// The 10 s limit is the promise ("within 10 s"), not a performance threshold:
	// a hang, the failure this guards against, would never end.
	stdout, stderr, code := runPyroll(t, 10*time.Second, kubeconfig, "-n", ns, "status")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(stderr, "forbidden") || !strings.Contains(stderr, `User "viewer" cannot list`) {
		t.Fatalf("exit %d, stderr %q, stdout %q; want exit 1 and one line saying what is forbidden", code, stderr, stdout)
	}
}

// The API server goes away mid-watch: the stream says so, resumes, and ends right.
func TestStatusWatchSurvivesAPIServerRestart(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "restart-api")
	applyComplete(t, v1)
	v2.MinReadySeconds = 5
	if _, err := v2.Apply(context.Background(), sb.Client()); err != nil {
		t.Fatal(err)
	}
	watch := startPyroll(t, sb.Kubeconfig, "-n", ns, "status", "restart-api", "--watch", "-o", "ndjson", "--timeout", "4m")
	eventually(t, time.Minute, "a first Progressing line", func(context.Context) error {
		if lines := statusLines(t, watch.output()); len(lines) == 0 || lines[0].Phase != rollout.PhaseProgressing {
			return errorf("lines so far: %v", watch.output())
		}
		return nil
	})
	sb.StopAPIServer()
	eventually(t, time.Minute, "a reconnecting line", func(context.Context) error {
		for _, l := range watch.output() {
			if strings.Contains(l, `"state":"reconnecting"`) {
				return nil
			}
		}
		return errorf("lines so far: %v", watch.output())
	})
	if err := sb.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := watch.wait(t, 4*time.Minute); code != 0 {
		t.Fatalf("exit code %d; want 0\n%s\n%s", code, strings.Join(watch.output(), "\n"), watch.stderr.String())
	}
	out := watch.output()
	sawLive := false
	for _, l := range out {
		if strings.Contains(l, `"state":"live"`) {
			sawLive = true
		}
	}
	lines := statusLines(t, out)
	last := lines[len(lines)-1]
	if !sawLive || last.Phase != rollout.PhaseComplete || last.CanaryRevision != 2 {
		t.Fatalf("want live again and a final Complete at revision 2; got:\n%s", strings.Join(out, "\n"))
	}
}
