//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/notify"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// guardProcess is a running `kubectl pyroll guard -o json`, its log lines collected.
type guardProcess struct{ *streamingCommand }

func startGuard(t *testing.T, kubeconfig string, args ...string) guardProcess {
	t.Helper()
	sb := sandboxtest.Get(t)
	all := append([]string{"guard", "--prometheus-url", sb.PrometheusURL, "--metrics-interval", "2s", "-o", "json"}, args...)
	g := guardProcess{startStreaming(t, true, kubeconfig, all...)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("guard %s log:\n%s", strings.Join(args, " "), g.log())
		}
	})
	return g
}

func (g guardProcess) log() string { return strings.Join(g.output(), "\n") }

// waitLog waits for a log line containing every part.
func (g guardProcess) waitLog(t *testing.T, timeout time.Duration, parts ...string) {
	t.Helper()
	eventually(t, timeout, "guard logs "+strings.Join(parts, " & "), func(context.Context) error {
		for _, line := range g.output() {
			found := true
			for _, p := range parts {
				found = found && strings.Contains(line, p)
			}
			if found {
				return nil
			}
		}
		return errorf("not in the log:\n%s", g.log())
	})
}

// webhook is a local receiver of the guard's notifications.
type webhook struct {
	*httptest.Server
	mu   sync.Mutex
	docs []notify.Document
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var doc notify.Document
		if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.docs = append(w.docs, doc)
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) received() []notify.Document {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]notify.Document(nil), w.docs...)
}

// breachingCanary is a release whose stable serves 0.5% errors and whose canary (one pod,
// never available: it stays mid-way, under observation) serves 5%, under a 1% threshold.
func breachingCanary(t *testing.T, ns, name string) (workload.Release, workload.Release) {
	t.Helper()
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	v1, v2 := releaseV1V2(ns, name)
	v1.ErrorRate, v1.LockHash, v1.Python = 0.005, "sha256:1f2e3d4c", "3.11.10"
	v2.LockHash, v2.Python = "sha256:7a6b5c4d", "3.12.7"
	applyComplete(t, v1)
	v2.ErrorRate, v2.MinReadySeconds, v2.ProgressDeadlineSeconds = 0.05, 3600, 7200
	if _, err := v2.Apply(ctx, sb.Client()); err != nil {
		t.Fatal(err)
	}
	patch := `{"metadata":{"annotations":{"` + guard.MaxErrorRateAnnotation + `":"0.01"}}}`
	if _, err := sb.Client().AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	return v1, v2
}

func lastActionOf(t *testing.T, ns, name string) (intent.LastAction, bool) {
	d := getDeployment(t, ns, name)
	var last intent.LastAction
	err := json.Unmarshal([]byte(d.Annotations[intent.LastActionAnnotation]), &last)
	return last, err == nil && d.Spec.Paused
}

// The headless guard halts a breaching canary after --after rounds, records why, and
// tells the webhook once, with both builds.
func TestGuardHaltsABreachingCanaryAndNotifiesOnce(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, v2 := breachingCanary(t, ns, "pay-api")
	hook := newWebhook(t)
	g := startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "2", "--notify", hook.URL, "--report-dir", t.TempDir())
	eventually(t, 3*time.Minute, "pay-api halted by the guard", func(context.Context) error {
		last, paused := lastActionOf(t, ns, "pay-api")
		if !paused || last.Action != intent.Halt || !strings.Contains(last.Reason, "guard: canary errors") || !strings.Contains(last.Reason, "for 2 intervals") {
			return errorf("paused %v, last action %+v", paused, last)
		}
		return nil
	})
	eventually(t, time.Minute, "a notification", func(context.Context) error {
		if len(hook.received()) == 0 {
			return errorf("none yet")
		}
		return nil
	})
	doc := hook.received()[0]
	if doc.Outcome != notify.Done || doc.Action != guard.ActHalt || doc.Service != "pay-api" || doc.Namespace != ns {
		t.Errorf("notification %+v", doc)
	}
	if doc.Canary == nil || doc.Stable == nil || string(doc.Canary.GitSHA) != v2.GitSHA || string(doc.Stable.GitSHA) != v1.GitSHA ||
		string(doc.Canary.LockHash) != v2.LockHash || string(doc.Stable.LockHash) != v1.LockHash || string(doc.Canary.Python) != v2.Python || string(doc.Stable.Python) != v1.Python {
		t.Errorf("builds in the notification: canary %+v stable %+v", doc.Canary, doc.Stable)
	}
	if !strings.Contains(doc.Text, "halted") || !strings.Contains(doc.Report, "# Incident snapshot: "+ns+"/pay-api") {
		t.Errorf("text %q, report %.200q", doc.Text, doc.Report)
	}
	g.waitLog(t, time.Minute, `"action":"halt"`, `"rollout":"deployment/pay-api"`, `"sha":"`+v2.GitSHA[:7])
	// Three more rounds on the halted canary: never a second halt, never a second message.
	g.waitLog(t, time.Minute, `"msg":"verdict"`, `"verdict":"BREACH"`)
	consistently(t, 7*time.Second, "one notification only", func() error {
		if n := len(hook.received()); n != 1 {
			return errorf("%d notifications", n)
		}
		return nil
	})
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := g.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

// --action rollback writes the stable template back, as the r key does; every ReplicaSet
// stays.
func TestGuardRollsBackABreachingCanary(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, _ := breachingCanary(t, ns, "ship-api")
	before := len(replicaSetsOf(t, ns, "ship-api"))
	startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "2", "--action", "rollback")
	eventually(t, 3*time.Minute, "ship-api rolled back to v1's template", func(context.Context) error {
		d := getDeployment(t, ns, "ship-api")
		if img := d.Spec.Template.Spec.Containers[0].Image; img != v1.Image {
			return errorf("image %s", img)
		}
		return nil
	})
	d := getDeployment(t, ns, "ship-api")
	var last intent.LastAction
	_ = json.Unmarshal([]byte(d.Annotations[intent.LastActionAnnotation]), &last)
	if last.Action != intent.Rollback || last.To != 1 || !strings.Contains(last.Reason, "guard: canary errors") {
		t.Errorf("audit record %+v", last)
	}
	if after := len(replicaSetsOf(t, ns, "ship-api")); after != before {
		t.Errorf("%d ReplicaSets after the rollback, %d before: every one must stay", after, before)
	}
}

// With Prometheus gone the guard acts on nothing and says so once; it acts after Prometheus
// returns.
func TestGuardWaitsOutAnUnreachablePrometheus(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	breachingCanary(t, ns, "cart-api")
	g := startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "3")
	g.waitLog(t, 2*time.Minute, `"verdict":"BREACH"`)
	sb.StopPrometheus()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = sb.StartPrometheus(context.Background())
		}
	})
	g.waitLog(t, time.Minute, "Prometheus unreachable")
	consistently(t, 8*time.Second, "no action while Prometheus is unreachable", func() error {
		if _, paused := lastActionOf(t, ns, "cart-api"); paused {
			return errorf("halted without numbers")
		}
		return nil
	})
	if n := strings.Count(g.log(), "Prometheus unreachable"); n != 1 {
		t.Errorf("unreachable said %d times; want once", n)
	}
	if err := sb.StartPrometheus(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	g.waitLog(t, 2*time.Minute, "Prometheus answers again")
	eventually(t, 3*time.Minute, "cart-api halted once the numbers are back", func(context.Context) error {
		if last, paused := lastActionOf(t, ns, "cart-api"); !paused || last.Action != intent.Halt {
			return errorf("paused %v, %+v", paused, last)
		}
		return nil
	})
}

// Two guards with --leader-elect: one halt, not two; SIGKILL the leader and the other
// takes over (and acts on the next breach).
func TestGuardLeaderElection(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	_, v2 := breachingCanary(t, ns, "lead-api")
	args := []string{"-n", ns, "--after", "2", "--leader-elect", "--lease-namespace", ns, "--lease-duration", "4s"}
	a := startGuard(t, sb.Kubeconfig, args...)
	a.waitLog(t, time.Minute, "leads")
	b := startGuard(t, sb.Kubeconfig, args...)
	b.waitLog(t, time.Minute, "waiting for the lease")
	eventually(t, 3*time.Minute, "lead-api halted", func(context.Context) error {
		if _, paused := lastActionOf(t, ns, "lead-api"); !paused {
			return errorf("not halted")
		}
		return nil
	})
	consistently(t, 6*time.Second, "exactly one halt recorded", func() error {
		events, err := sb.Client().CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=PyrollHalt"})
		if err != nil {
			return err
		}
		if len(events.Items) != 1 {
			return errorf("%d PyrollHalt events", len(events.Items))
		}
		return nil
	})
	if strings.Contains(b.log(), "leads") {
		t.Fatalf("both guards led:\n%s", b.log())
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.waitLog(t, time.Minute, "leads")
	// A new canary breaches: the new leader acts on it.
	v3 := v2
	v3.Image, v3.Version, v3.GitSHA = "ghcr.io/acme/lead-api:1.2.0", "1.2.0", "c0ffee3"
	if _, err := v3.Apply(ctx, sb.Client()); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "promote", "-n", ns, "lead-api"); code != 0 {
		t.Fatalf("promote: %s", stderr)
	}
	eventually(t, 3*time.Minute, "the new canary halted by the new leader", func(context.Context) error {
		last, paused := lastActionOf(t, ns, "lead-api")
		if !paused || last.Action != intent.Halt || last.From != 3 {
			return errorf("paused %v, %+v", paused, last)
		}
		return nil
	})
}

// A user who may only read gets one line naming what is missing, and exit 1, before the loop.
func TestGuardRefusesToStartWithoutTheVerbs(t *testing.T) {
	ns := newNamespace(t)
	kubeconfig := userWithRole(t, ns, "guard-viewer", []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
	})
	_, stderr, code := runPyroll(t, time.Minute, kubeconfig, "guard", "-n", ns, "--prometheus-url", sandboxtest.Get(t).PrometheusURL)
	if code != 1 || !strings.Contains(stderr, "patch deployments.apps in namespace "+ns) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line naming patch deployments", code, stderr)
	}
}

// The Role shipped in assets/deploy/guard is enough for the guard to start (its verbs are
// the minimal set), and SIGTERM stops it with exit 0, the Lease released.
func TestGuardStartsWithTheShippedRole(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	data, err := os.ReadFile(filepath.Join(sandboxtest.RepoRoot(), "assets", "deploy", "guard", "watched-namespace-role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.Role
	if err := yaml.Unmarshal([]byte(strings.Split(string(data), "\n---\n")[0]), &role); err != nil || role.Kind != "Role" {
		t.Fatalf("the shipped Role: %v (%+v)", err, role.TypeMeta)
	}
	rules := append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}})
	kubeconfig := userWithRole(t, ns, "guard-sa", rules)
	g := startGuard(t, kubeconfig, "-n", ns, "--leader-elect", "--lease-namespace", ns, "--action", "rollback")
	g.waitLog(t, time.Minute, "leads")
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := g.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
	lease, err := sb.Client().CoordinationV1().Leases(ns).Get(context.Background(), "kubectl-pyroll-guard", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity != nil {
		t.Errorf("lease after SIGTERM: %+v, %v; want released", lease.Spec, err)
	}
}

// In CI, `status --watch` fails the job on an SLO breach, not only on crash loops: a canary
// in BREACH for --after rounds ends the watch with exit 1 and the why.
func TestStatusWatchFailsOnAnSLOBreach(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	breachingCanary(t, ns, "ci-api")
	stdout, stderr, code := runPyroll(t, 3*time.Minute, sb.Kubeconfig, "-n", ns, "status", "ci-api", "--watch",
		"--prometheus-url", sb.PrometheusURL, "--metrics-interval", "2s", "--after", "2")
	if code != 1 || !strings.Contains(stderr, "SLO breach: deployment/ci-api in "+ns+": canary errors") || !strings.Contains(stderr, "for 2 metric rounds") {
		t.Fatalf("exit %d; want 1 with the breach\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "BREACH") {
		t.Errorf("the watch's lines should show the BREACH before it ends:\n%s", stdout)
	}
}
