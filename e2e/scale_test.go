//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/auditlog"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// The correctness side of DESIGN.md §9 (the figures are hack/scalebench's, run by `make
// bench`): after its first sync the console never LISTs again, however the pods change, and
// it writes nothing to its terminal while nothing changes.

// plainDeployment creates a Deployment of a tiny container that no process runs for (no
// sandbox run label: kwok makes its pods Running and Ready) and waits until it is complete.
func plainDeployment(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	sb := sandboxtest.Get(t)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + name + ":1.0.0"}}},
			},
		},
	}
	if _, err := sb.Client().AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(context.Background(), sb.Client(), ns, name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
}

func scaleDeployment(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := sandboxtest.Get(t).Client().AppsV1().Deployments(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// After the console (-A, in a terminal) has synced, none of its requests is a LIST, for 30
// seconds and more while pods come, go and get replaced: it lives on its watches. The API
// server's audit log says what reached it; the console has a user of its own to tell its
// requests from everyone else's.
func TestScaleConsoleListsNothingAfterSync(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	plainDeployment(t, ns, "churn-api", 2)
	const user = "e2e-scale-console"
	kubeconfig, err := sb.UserKubeconfig(user, "system:masters")
	if err != nil {
		t.Fatal(err)
	}

	pane := startTmux(t, 160, 40)
	started := time.Now()
	pane.keys(pyrollBinary() + " --kubeconfig " + kubeconfig + " -A")
	pane.key("Enter")
	pane.waitScreen("the console synced, churn-api on screen", func(s string) bool {
		return strings.Contains(rowOf(s, ns+"/churn-api"), "2/2") && strings.Contains(s, "live")
	})
	synced := time.Now()

	// Pods change for 30 s and more: scaled up and down, deleted and replaced; each change
	// is waited for on the console's screen, so its watches demonstrably carried it.
	client := sb.Client()
	changes := 0
	for replicas := int32(3); time.Since(synced) < 32*time.Second; replicas = 5 - replicas { // 3, 2, 3, ...
		scaleDeployment(t, ns, "churn-api", replicas)
		want := fmt.Sprintf("%d/%d", replicas, replicas)
		pane.waitScreen("churn-api at "+want, func(s string) bool { return strings.Contains(rowOf(s, ns+"/churn-api"), want) })
		pods, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=churn-api"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue // going already (scaled down)
			}
			if err := client.CoreV1().Pods(ns).Delete(context.Background(), p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
			break
		}
		if err := workload.WaitDeployment(context.Background(), client, ns, "churn-api", time.Minute, "complete again", workload.DeploymentComplete); err != nil {
			t.Fatal(err)
		}
		changes += 2
	}
	end := time.Now()

	mine := func(r auditlog.Request) bool {
		return r.User == user && strings.HasPrefix(r.UserAgent, "kubectl-pyroll/")
	}
	// The API server writes an audit line before it handles the request: the console's last
	// requests are in the file by now.
	all, err := auditlog.Read(sb.AuditLogPath(), started.Add(-time.Second), mine)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatalf("no request of user %s in the audit log %s: is the audit log on?", user, sb.AuditLogPath())
	}
	var after []auditlog.Request
	for _, r := range all {
		if !r.Time.Before(synced) {
			after = append(after, r)
		}
	}
	t.Logf("console requests: %v from start to sync, %v in the %s after it (%d pod changes)",
		auditlog.CountByVerb(all[:len(all)-len(after)]), auditlog.CountByVerb(after), end.Sub(synced).Round(time.Second), changes)
	for _, r := range after {
		if r.Verb == "list" {
			t.Errorf("LIST after sync at +%s: %s", r.Time.Sub(synced).Round(time.Millisecond), r.URI)
		}
	}
}

// While nothing changes, the console writes nothing to its terminal: not on metrics rounds
// (every second here, against the sandbox's Prometheus), not to redraw an unchanged screen.
// Everything the program writes is captured with tmux's pipe-pane.
func TestScaleConsoleIdleWritesNothing(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	plainDeployment(t, ns, "still-api", 2)
	plainDeployment(t, ns, "quiet-api", 1)

	pane := startTmux(t, 100, 30)
	started := time.Now()
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n " + ns + " --prometheus-url " + sb.PrometheusURL + " --metrics-interval 1s")
	pane.key("Enter")
	// Synced, and the first metrics round landed (n/a: no series for these pods).
	pane.waitScreen("both rollouts with their error-rate cells", func(s string) bool {
		return strings.Contains(rowOf(s, "still-api"), "n/a") && strings.Contains(rowOf(s, "quiet-api"), "n/a") && strings.Contains(s, "live")
	})

	raw := filepath.Join(t.TempDir(), "terminal.raw")
	pane.pipeTo(raw)
	// Settled: nothing written for 2 s.
	size := func() int64 {
		st, err := os.Stat(raw)
		if err != nil {
			return 0
		}
		return st.Size()
	}
	last, since := size(), time.Now()
	eventually(t, time.Minute, "the terminal quiet for 2 s", func(context.Context) error {
		if s := size(); s != last {
			last, since = s, time.Now()
		}
		if quiet := time.Since(since); quiet < 2*time.Second {
			return errorf("last write %s ago", quiet.Round(time.Millisecond))
		}
		return nil
	})

	// The window being measured. Ages move at minute granularity (the console redraws them
	// once a minute after it started): keep that tick out of the window.
	const idle = 20 * time.Second
	if tick := started.Add(time.Minute); time.Now().Add(idle + 2*time.Second).After(tick) {
		eventually(t, 2*time.Minute, "past the minute age tick", func(context.Context) error {
			if left := time.Until(tick.Add(3 * time.Second)); left > 0 {
				return errorf("%s to go", left.Round(time.Second))
			}
			return nil
		})
	}
	before := size()
	consistently(t, idle, "the console writes nothing to its terminal while nothing changes", func() error {
		if written := size() - before; written != 0 {
			data, _ := os.ReadFile(raw)
			return errorf("%d bytes written: %q", written, data[before:])
		}
		return nil
	})
	// Still alive and on the same screen.
	pane.waitScreen("the console still showing both rollouts", containsAll("still-api", "quiet-api", "live"))
}
