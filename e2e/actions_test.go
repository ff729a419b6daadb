//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

func getDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := sandboxtest.Get(t).Client().AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func replicaSetsOf(t *testing.T, ns, app string) []appsv1.ReplicaSet {
	t.Helper()
	list, err := sandboxtest.Get(t).Client().AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// Halt mid-rollout stops the rollout where it stands; promote completes it.
func TestHaltThenPromote(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "brake-api")
	v1.Replicas, v2.Replicas = 4, 4
	applyComplete(t, v1)
	v2.MinReadySeconds = 2
	if _, err := v2.Apply(context.Background(), sb.Client()); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "halt", "brake-api", "--reason", "5xx on checkout")
	if code != 0 || !strings.Contains(stdout, "halted brake-api") {
		t.Fatalf("halt: exit %d\n%s%s", code, stdout, stderr)
	}
	// Once the controller has seen the pause, the ReplicaSets stay as they are, even as the
	// new pods become ready (which would otherwise let the rollout move on).
	var frozen map[string]int32
	eventually(t, time.Minute, "the controller to observe the pause and the new pods to be ready", func(context.Context) error {
		d := getDeployment(t, ns, "brake-api")
		if !d.Spec.Paused || d.Status.ObservedGeneration < d.Generation {
			return errorf("paused=%v observed %d of %d", d.Spec.Paused, d.Status.ObservedGeneration, d.Generation)
		}
		replicas := map[string]int32{}
		for _, rs := range replicaSetsOf(t, ns, "brake-api") {
			replicas[rs.Name] = *rs.Spec.Replicas
		}
		if frozen == nil {
			frozen = replicas
		}
		for name, n := range replicas {
			if frozen[name] != n {
				t.Fatalf("ReplicaSet %s scaled from %d to %d while halted", name, frozen[name], n)
			}
		}
		if d.Status.UpdatedReplicas == 0 || d.Status.ReadyReplicas < d.Status.Replicas {
			return errorf("updated %d ready %d of %d", d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.Replicas)
		}
		return nil
	})
	if d := getDeployment(t, ns, "brake-api"); d.Status.UpdatedReplicas >= 4 {
		t.Errorf("the rollout completed while halted")
	}
	stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "promote", "brake-api")
	if code != 0 || !strings.Contains(stdout, "promoted brake-api") {
		t.Fatalf("promote: exit %d\n%s%s", code, stdout, stderr)
	}
	if err := workload.WaitDeployment(context.Background(), sb.Client(), ns, "brake-api", 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
	var record intent.LastAction
	if err := json.Unmarshal([]byte(getDeployment(t, ns, "brake-api").Annotations[intent.LastActionAnnotation]), &record); err != nil || record.Action != intent.Promote || record.User != "pyroll-admin" {
		t.Errorf("last action %+v (%v); want promote by pyroll-admin", record, err)
	}
}

func TestRollbackOfACrashLoopingRelease(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "undo-api")
	applyComplete(t, v1)
	v2.CrashMessage = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'orjson'"
	if _, err := v2.Apply(ctx, sb.Client()); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "two ReplicaSets", func(context.Context) error {
		if n := len(replicaSetsOf(t, ns, "undo-api")); n != 2 {
			return errorf("%d ReplicaSets", n)
		}
		return nil
	})

	// --dry-run=server says what would change and changes nothing.
	before := getDeployment(t, ns, "undo-api")
	stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "undo-api", "--dry-run=server")
	if code != 0 || !strings.Contains(stdout, "dry run") || !strings.Contains(stdout, "to   rev 1: image ghcr.io/acme/undo-api:1.0.0, sha c0ffee1") {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	if after := getDeployment(t, ns, "undo-api"); after.Generation != before.Generation || !equality.Semantic.DeepEqual(after.Spec, before.Spec) {
		t.Fatalf("--dry-run=server changed the Deployment")
	}

	stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "undo-api", "--yes", "--reason", "orjson missing")
	if code != 0 || !strings.Contains(stdout, "rolled back undo-api from rev 2 to rev 1") {
		t.Fatalf("rollback: exit %d\n%s%s", code, stdout, stderr)
	}
	if err := workload.WaitDeployment(ctx, sb.Client(), ns, "undo-api", 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
	d := getDeployment(t, ns, "undo-api")
	var v1RS *appsv1.ReplicaSet
	rsList := replicaSetsOf(t, ns, "undo-api")
	for i := range rsList {
		if rsList[i].Spec.Template.Spec.Containers[0].Image == v1.Image {
			v1RS = &rsList[i]
		}
	}
	if len(rsList) != 2 || v1RS == nil {
		t.Fatalf("ReplicaSets after the rollback: %d (want both kept)", len(rsList))
	}
	want := v1RS.Spec.Template.DeepCopy()
	delete(want.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	if !equality.Semantic.DeepEqual(d.Spec.Template, *want) {
		t.Errorf("the Deployment's template is not revision 1's")
	}
	if !strings.Contains(d.Annotations["kubernetes.io/change-cause"], "rollback to rev 1 by pyroll-admin: orjson missing") || d.Annotations[intent.LastActionAnnotation] == "" {
		t.Errorf("audit annotations: %v", d.Annotations)
	}
	events, err := sb.Client().CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=PyrollRollback"})
	if err != nil || len(events.Items) != 1 || events.Items[0].InvolvedObject.Name != "undo-api" {
		t.Errorf("PyrollRollback events: %v (%v)", events, err)
	}
}

// Between the confirmation (the plan) and the apply, someone else changes the Deployment:
// the edit stays, nothing is written.
func TestEditBetweenConfirmationAndApplyIsKept(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "race-api")
	applyComplete(t, v1)
	applyComplete(t, v2)
	driver := &actions.Driver{Client: kubeapitest.FromClientset(sb.Client()), User: "e2e"}
	plan, err := driver.Plan(ctx, intent.Request{Action: intent.Rollback, Target: ref.Rollout{Kind: ref.Deployment, Namespace: ns, Name: "race-api"}})
	if err != nil {
		t.Fatal(err)
	}
	hotfix := v2
	hotfix.Image, hotfix.Version = "ghcr.io/acme/race-api:1.1.1-hotfix", "1.1.1"
	if _, err := hotfix.Apply(ctx, sb.Client()); err != nil {
		t.Fatal(err)
	}
	if _, err := driver.Apply(ctx, plan); !errors.Is(err, actions.ErrChanged) {
		t.Fatalf("apply after a concurrent edit: %v; want ErrChanged", err)
	}
	if img := getDeployment(t, ns, "race-api").Spec.Template.Spec.Containers[0].Image; img != hotfix.Image {
		t.Errorf("the concurrent edit was overwritten: image %s", img)
	}
}

// A user who may only read is refused with one line, and nothing changes.
func TestReadOnlyUserCannotAct(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	v1, _ := releaseV1V2(ns, "guarded-api")
	applyComplete(t, v1)
	kubeconfig := readOnlyUser(t, ns, "reader")
	before := getDeployment(t, ns, "guarded-api")
	_, stderr, code := runPyroll(t, time.Minute, kubeconfig, "-n", ns, "halt", "guarded-api")
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "forbidden") || !strings.Contains(stderr, `User "reader" cannot patch`) {
		t.Fatalf("halt as a reader: exit %d, stderr %q; want 1 and one forbidden line", code, stderr)
	}
	if after := getDeployment(t, ns, "guarded-api"); after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the Deployment changed after a refused halt")
	}
	_, _, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "--read-only", "halt", "guarded-api")
	if code != 1 || getDeployment(t, ns, "guarded-api").Spec.Paused {
		t.Errorf("--read-only halt: exit %d", code)
	}
}

// readOnlyUser lets user get, list and watch the rollout resources in ns and returns a
// kubeconfig for that user.
func readOnlyUser(t *testing.T, ns, user string) string {
	t.Helper()
	read := []string{"get", "list", "watch"}
	return userWithRole(t, ns, user, []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets"}, Verbs: read},
		{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: read},
	})
}

// userWithRole binds a Role of these rules in ns to user and returns a kubeconfig for them.
func userWithRole(t *testing.T, ns, user string, rules []rbacv1.PolicyRule) string {
	t.Helper()
	return userWithRoleIn(t, sandboxtest.Get(t), ns, user, rules)
}

// userWithRoleIn is userWithRole on the cluster of sb.
func userWithRoleIn(t *testing.T, sb *sandbox.Sandbox, ns, user string, rules []rbacv1.PolicyRule) string {
	t.Helper()
	ctx := context.Background()
	rbac := sb.Client().RbacV1()
	if _, err := rbac.Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: user},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: user, APIGroup: "rbac.authorization.k8s.io"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := sb.UserKubeconfig(user)
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// The three keys in a real terminal, on a copy of the demo in a namespace of its own.
func TestConsoleActionKeys(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	if err := demo.SeedIn(ctx, sb.Client(), ns); err != nil {
		t.Fatal(err)
	}
	pane := startTmux(t, 120, 30)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n " + ns + "; echo CONSOLE-EXITED-$?")
	pane.key("Enter")
	pane.waitScreen("the demo copy", func(s string) bool {
		return strings.Contains(rowOf(s, "search-api"), "Degraded") && strings.Contains(rowOf(s, "orders-api"), "Halted")
	})
	// The demo's orders-api waits 30 s per pod (minReadySeconds); here a promoted rollout
	// should finish in seconds.
	if _, err := sb.Client().AppsV1().Deployments(ns).Patch(ctx, "orders-api", types.MergePatchType, []byte(`{"spec":{"minReadySeconds":1}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	// search-api is first (Degraded): r, then y.
	pane.keys("r")
	pane.waitScreen("the rollback confirmation", containsAll("roll back search-api from rev 2", "to rev 1", "y/n"))
	pane.keys("y")
	pane.waitScreen("the rollback result", containsAll("rolled back search-api"))
	if err := workload.WaitDeployment(ctx, sb.Client(), ns, "search-api", 2*time.Minute, "complete after the rollback", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
	if img := getDeployment(t, ns, "search-api").Spec.Template.Spec.Containers[0].Image; img != demo.SearchV1.Image {
		t.Errorf("search-api runs %s after the rollback; want %s", img, demo.SearchV1.Image)
	}

	// orders-api: p, then y: it completes.
	pane.keys("/orders")
	pane.key("Enter")
	pane.waitScreen("orders-api alone", func(s string) bool { return strings.Contains(s, "orders-api") && !strings.Contains(s, "payments-api") })
	pane.keys("p")
	pane.waitScreen("the promote confirmation", containsAll("promote orders-api", "y/n"))
	pane.keys("y")
	pane.waitScreen("the promote result", containsAll("promoted orders-api"))
	if err := workload.WaitDeployment(ctx, sb.Client(), ns, "orders-api", 3*time.Minute, "complete after promote", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}

	// A new release of payments-api, halted with h: kubectl sees it paused.
	pane.key("Escape")
	pane.waitScreen("the filter cleared", containsAll("payments-api", "search-api"))
	next := demo.PaymentsV1
	next.Namespace, next.Image, next.Version, next.GitSHA, next.MinReadySeconds = ns, "ghcr.io/acme/payments:2.5.0", "2.5.0", "abcdef0", 30
	if _, err := next.Apply(ctx, sb.Client()); err != nil {
		t.Fatal(err)
	}
	pane.keys("/payments")
	pane.key("Enter")
	pane.waitScreen("payments-api rolling out", func(s string) bool { return strings.Contains(rowOf(s, "payments-api"), "Progressing") })
	pane.keys("h")
	pane.waitScreen("the halt result", containsAll("halted payments-api"))
	if !getDeployment(t, ns, "payments-api").Spec.Paused {
		t.Errorf("payments-api not paused after h")
	}
	pane.keys("q")
	pane.waitScreen("the shell again", containsAll("CONSOLE-EXITED-0"))
}

// A reader sees the actions off, with the reason, in the console.
func TestConsoleShowsActionsOffForAReader(t *testing.T) {
	ns := newNamespace(t)
	v1, _ := releaseV1V2(ns, "looked-at-api")
	applyComplete(t, v1)
	kubeconfig := readOnlyUser(t, ns, "looker")
	pane := startTmux(t, 120, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + kubeconfig + " -n " + ns)
	pane.key("Enter")
	pane.waitScreen("actions off with the reason", containsAll("looked-at-api", "actions off: forbidden: cannot patch deployments"))
	pane.keys("h")
	pane.waitScreen("halt refused", containsAll("halt not available: forbidden"))
	if getDeployment(t, ns, "looked-at-api").Spec.Paused {
		t.Errorf("a reader's h paused the Deployment")
	}
}
