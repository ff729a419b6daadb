//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/notify"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// completedRelease deploys v1 (0.2% errors, 3 replicas), waits until Prometheus has its
// numbers, then rolls out v2 with the given error rate as a plain RollingUpdate (maxSurge
// 1, no pause, no minReadySeconds: it completes in seconds) and waits until it completed.
// The Deployment has no error threshold: v2 is judged against v1's numbers before it.
func completedRelease(t *testing.T, ns, name, bakeTime string, v2ErrorRate float64) (workload.Release, workload.Release) {
	t.Helper()
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	v1, v2 := releaseV1V2(ns, name)
	v1.Replicas, v2.Replicas = 3, 3
	v1.ErrorRate, v1.TrafficRPS = 0.002, 20
	v2.ErrorRate, v2.TrafficRPS = v2ErrorRate, 20
	applyComplete(t, v1)
	patch := `{"metadata":{"annotations":{"` + rollout.BakeTimeAnnotation + `":"` + bakeTime + `"}}}`
	if _, err := sb.Client().AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, name+" v1's numbers in Prometheus", func(context.Context) error {
		stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "status", name, "-o", "json", "--prometheus-url", sb.PrometheusURL)
		var list cli.StatusList
		if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil || len(list.Items) != 1 {
			return errorf("exit %d %s %s", code, stdout, stderr)
		}
		if m, ok := list.Items[0].Metrics["1"]; !ok || m.State != metrics.StateOK || m.RequestRate == 0 {
			return errorf("revision 1: %+v", list.Items[0].Metrics)
		}
		return nil
	})
	// A baseline is the rate over the minutes before the release: give v1 some (at least
	// ten scrapes of every pod), as a build that served for a while has.
	if err := demo.WaitScrapes(context.Background(), sb.PrometheusURL, ns, name, 10); err != nil {
		t.Fatal(err)
	}
	applyComplete(t, v2)
	return v1, v2
}

// The case: a plain RollingUpdate release serving 5% errors over a 0.2% stable
// completes before any metric round could judge it; `guard --action rollback` started
// after it completed rolls it back to the build that served before, and tells on-call
// once, with both builds and what it compared.
func TestBakeGuardRollsBackACompletedRelease(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, v2 := completedRelease(t, ns, "cart-api", "15m", 0.05)
	before := len(replicaSetsOf(t, ns, "cart-api"))
	hook := newWebhook(t)
	g := startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "2", "--action", "rollback", "--notify", hook.URL)
	eventually(t, 3*time.Minute, "cart-api rolled back to v1's template", func(context.Context) error {
		if img := getDeployment(t, ns, "cart-api").Spec.Template.Spec.Containers[0].Image; img != v1.Image {
			return errorf("image %s", img)
		}
		return nil
	})
	d := getDeployment(t, ns, "cart-api")
	var last intent.LastAction
	_ = json.Unmarshal([]byte(d.Annotations[intent.LastActionAnnotation]), &last)
	if last.Action != intent.Rollback || last.From != 2 || last.To != 1 ||
		!strings.Contains(last.Reason, "before the release (rev 1, 10 min before)") || !strings.Contains(last.Reason, "bake window") {
		t.Errorf("audit record %+v", last)
	}
	if after := len(replicaSetsOf(t, ns, "cart-api")); after != before {
		t.Errorf("%d ReplicaSets after the rollback, %d before: every one must stay", after, before)
	}
	eventually(t, time.Minute, "a notification", func(context.Context) error {
		if len(hook.received()) == 0 {
			return errorf("none yet")
		}
		return nil
	})
	doc := hook.received()[0]
	if doc.Outcome != notify.Done || doc.Action != guard.ActRollback || doc.Bake == nil ||
		doc.Canary == nil || string(doc.Canary.GitSHA) != v2.GitSHA || doc.Stable == nil || string(doc.Stable.GitSHA) != v1.GitSHA {
		t.Errorf("notification %+v", doc)
	}
	if !strings.Contains(doc.Text, "rolled back after") || !strings.Contains(doc.Text, "min of bake, compared with") {
		t.Errorf("text %q", doc.Text)
	}
	g.waitLog(t, time.Minute, `"action":"rollback"`, `"rollout":"deployment/cart-api"`)
	// The rollback returns to a build that served before (revision 3 on v1's ReplicaSet):
	// it does not bake, and nothing more is done or told.
	consistently(t, 8*time.Second, "one notification, one rollback", func() error {
		if n := len(hook.received()); n != 1 {
			return errorf("%d notifications", n)
		}
		if img := getDeployment(t, ns, "cart-api").Spec.Template.Spec.Containers[0].Image; img != v1.Image {
			return errorf("image %s", img)
		}
		return nil
	})
}

// --action halt cannot halt a release that completed: nothing changes, on-call is told
// once what to do.
func TestBakeGuardHaltTellsOnceAndChangesNothing(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	_, v2 := completedRelease(t, ns, "cart-api", "15m", 0.05)
	before := getDeployment(t, ns, "cart-api")
	hook := newWebhook(t)
	startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "2", "--action", "halt", "--notify", hook.URL)
	eventually(t, 3*time.Minute, "a notification", func(context.Context) error {
		if len(hook.received()) == 0 {
			return errorf("none yet")
		}
		return nil
	})
	doc := hook.received()[0]
	if doc.Outcome != notify.Notified || doc.Action != guard.ActNotify ||
		!strings.Contains(doc.Reason, "complete before the breach was seen; roll back with `kubectl pyroll rollback cart-api`") {
		t.Errorf("notification %+v", doc)
	}
	consistently(t, 8*time.Second, "nothing changed, told once", func() error {
		if n := len(hook.received()); n != 1 {
			return errorf("%d notifications", n)
		}
		// The resourceVersion is no witness: the deployment controller may still write status
		// after Complete. A write of ours bumps the generation (spec), adds an annotation, or
		// leaves our field manager's entry.
		d := getDeployment(t, ns, "cart-api")
		if d.Generation != before.Generation || d.Spec.Paused || d.Spec.Template.Spec.Containers[0].Image != v2.Image {
			return errorf("changed: generation %d->%d paused %v image %s", before.Generation, d.Generation, d.Spec.Paused, d.Spec.Template.Spec.Containers[0].Image)
		}
		for k, v := range d.Annotations {
			if before.Annotations[k] != v {
				return errorf("annotation %s=%q written", k, v)
			}
		}
		for _, f := range d.ManagedFields {
			if f.Manager == actions.FieldManager {
				return errorf("a write by %s at %v (%s)", f.Manager, f.Time, f.Operation)
			}
		}
		return nil
	})
}

// status --watch started in a bake window waits for its verdict: exit 1 for the bad
// release; exit 0 for a clean one when its window ends, with no action by a guard beside it.
func TestBakeStatusWatchWaitsForTheVerdict(t *testing.T) {
	sb := sandboxtest.Get(t)
	t.Run("bad", func(t *testing.T) {
		ns := newNamespace(t)
		completedRelease(t, ns, "cart-api", "15m", 0.05)
		stdout, stderr, code := runPyroll(t, 3*time.Minute, sb.Kubeconfig, "-n", ns, "status", "cart-api", "--watch",
			"--prometheus-url", sb.PrometheusURL, "--metrics-interval", "2s", "--after", "2")
		if code != 1 || !strings.Contains(stderr, "SLO breach") || !strings.Contains(stderr, "before the release (rev 1") {
			t.Fatalf("exit %d; want 1 with the breach\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "Baking") {
			t.Errorf("the watch should show the release Baking:\n%s", stdout)
		}
	})
	t.Run("clean", func(t *testing.T) {
		ns := newNamespace(t)
		completedRelease(t, ns, "cart-api", "40s", 0.002)
		g := startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "2", "--action", "rollback")
		stdout, stderr, code := runPyroll(t, 3*time.Minute, sb.Kubeconfig, "-n", ns, "status", "cart-api", "--watch", "-o", "ndjson",
			"--prometheus-url", sb.PrometheusURL, "--metrics-interval", "2s", "--after", "2")
		if code != 0 {
			t.Fatalf("exit %d; want 0 once the window ended clean\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		lines := statusLines(t, strings.Split(strings.TrimSpace(stdout), "\n"))
		if first, last := lines[0], lines[len(lines)-1]; first.Phase != rollout.PhaseBaking || last.Phase != rollout.PhaseComplete {
			t.Errorf("phases %s .. %s; want Baking .. Complete", first.Phase, last.Phase)
		}
		d := getDeployment(t, ns, "cart-api")
		if _, acted := d.Annotations[intent.LastActionAnnotation]; acted || strings.Contains(g.log(), `"action":"rollback"`) {
			t.Errorf("a clean release was acted on: %v\n%s", d.Annotations, g.log())
		}
	})
}

// The demo's cart-api (make demo; the README's bake-window example): its release
// completed with no pause; `guard cart-api --action rollback` returns it to 2.0.0.
func TestBakeDemoCartIsRolledBack(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	if err := demo.SeedCartIn(context.Background(), sb.Client(), ns, sb.PrometheusURL); err != nil {
		t.Fatal(err)
	}
	startGuard(t, sb.Kubeconfig, "-n", ns, "cart-api", "--after", "2", "--action", "rollback")
	eventually(t, 3*time.Minute, "cart-api back on 2.0.0", func(context.Context) error {
		if img := getDeployment(t, ns, "cart-api").Spec.Template.Spec.Containers[0].Image; img != demo.CartV1.Image {
			return errorf("image %s", img)
		}
		return nil
	})
}
