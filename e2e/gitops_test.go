//go:build e2e

// kubectl-pyroll under real GitOps owners (issue 28): Flux's real controllers put back what a
// rollback wrote unless it holds them first; Helm's next upgrade conflicts with what a
// rollback wrote until release-hold gives its fields back; a viewer sees the owner and cannot
// hold it.

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/gitops"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

func TestGitOpsOwners(t *testing.T) {
	sb, ns := gitopsSandbox(t)
	ctx := context.Background()
	client, dyn := sb.Client(), sb.Dynamic()

	t.Run("Flux", func(t *testing.T) {
		v1 := workload.Release{Namespace: ns, Name: "orders", Image: "ghcr.io/acme/orders:2.0.0", Version: "2.0.0",
			GitSHA: "1111111111111111111111111111111111111111", Replicas: 2, NoTraffic: true}
		v2 := v1
		v2.Image, v2.Version, v2.GitSHA = "ghcr.io/acme/orders:2.1.0", "2.1.0", "2222222222222222222222222222222222222222"
		app := fluxDeployed(t, sb, v1)
		fluxCommitted(t, sb, app, v2)
		if err := workload.WaitDeployment(ctx, client, ns, "orders", 2*time.Minute, "complete on 2.1.0", workload.DeploymentComplete); err != nil {
			t.Fatal(err)
		}

		// The console marks it and says, before y, what Flux will do.
		pane := startTmux(t, 120, 30)
		pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n " + ns)
		pane.key("Enter")
		pane.waitScreen("orders marked as undone by its owner", func(s string) bool { return strings.Contains(rowOf(s, "orders"), "orders ⟲") })
		pane.keys("r")
		pane.waitScreen("the question naming Flux and offering the hold", flowing(containsAll(
			"Flux Kustomization "+sandbox.FluxNamespace+"/orders will put", "suspend it and rollback [y], rollback anyway [a], cancel [n]")))
		pane.keys("n")
		pane.waitScreen("cancelled", containsAll("cancelled; nothing changed"))
		pane.keys("q")

		// Without a word about the owner, the CLI refuses and says why.
		stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "orders", "--yes")
		if code != 1 || !strings.Contains(stderr, "Flux Kustomization "+sandbox.FluxNamespace+"/orders will put") || !strings.Contains(stderr, "--hold-gitops") {
			t.Fatalf("rollback under Flux without --hold-gitops/--force: exit %d\n%s%s", code, stdout, stderr)
		}
		if err := wantImage(ctx, sb, ns, "orders", v2.Image); err != nil {
			t.Fatalf("the refused rollback wrote: %v", err)
		}

		// --force: written, and Flux puts Git's version back within its interval.
		stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "orders", "--yes", "--force")
		if code != 0 || !strings.Contains(stderr, "warning: Flux Kustomization") {
			t.Fatalf("rollback --force: exit %d\n%s%s", code, stdout, stderr)
		}
		eventually(t, 3*gitopsInterval+15*time.Second, "Flux putting 2.1.0 back after the forced rollback", func(ctx context.Context) error {
			return wantImage(ctx, sb, ns, "orders", v2.Image)
		})

		// --hold-gitops: the Kustomization is suspended first, and the rollback stays.
		stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "orders", "--yes", "--hold-gitops", "--reason", "5xx on checkout")
		if code != 0 || !strings.Contains(stdout, "held first") {
			t.Fatalf("rollback --hold-gitops: exit %d\n%s%s", code, stdout, stderr)
		}
		k, err := app.Kustomization(ctx, dyn)
		if err != nil {
			t.Fatal(err)
		}
		if suspended, _, _ := unstructured.NestedBool(k.Object, "spec", "suspend"); !suspended || k.GetAnnotations()[owner.HeldAnnotation] == "" {
			t.Fatalf("the Kustomization is not held: suspend=%v annotations=%v", k.Object["spec"], k.GetAnnotations())
		}
		consistently(t, 3*gitopsInterval, "the rollback to 2.0.0 kept for three intervals", func() error {
			return wantImage(context.Background(), sb, ns, "orders", v1.Image)
		})
		var last intent.LastAction
		if err := json.Unmarshal([]byte(deploymentIn(t, sb, ns, "orders").Annotations[intent.LastActionAnnotation]), &last); err != nil || last.Held != "Flux Kustomization "+sandbox.FluxNamespace+"/orders" {
			t.Errorf("the audit record does not name the hold: %+v (%v)", last, err)
		}
		events, err := client.CoreV1().Events(sandbox.FluxNamespace).List(ctx, metav1.ListOptions{FieldSelector: "reason=PyrollHold"})
		if err != nil || len(events.Items) == 0 || events.Items[0].InvolvedObject.Kind != "Kustomization" {
			t.Errorf("no PyrollHold Event on the Kustomization: %v %v", events, err)
		}

		// status -o json says who owns it and that it is held.
		stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "status", "orders", "-o", "json")
		var doc cli.StatusList
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Items) != 1 || doc.Items[0].Owner == nil {
			t.Fatalf("status -o json: exit %d, %v\n%s%s", code, err, stdout, stderr)
		}
		if o := doc.Items[0].Owner; o.Tool != owner.Flux || o.Suspended != "on" || o.Held == nil || o.OnRollback.Reverts != "no" {
			t.Errorf("status owner: %+v", o)
		}

		// release-hold resumes it, and Flux puts Git's version back.
		stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "release-hold", "orders")
		if code != 0 || !strings.Contains(stdout, "resumed") {
			t.Fatalf("release-hold: exit %d\n%s%s", code, stdout, stderr)
		}
		eventually(t, 3*gitopsInterval+15*time.Second, "Flux putting 2.1.0 back once released", func(ctx context.Context) error {
			return wantImage(ctx, sb, ns, "orders", v2.Image)
		})

		// A viewer sees the owner and cannot hold it.
		viewer, err := sb.UserKubeconfig("gitops-viewer")
		if err != nil {
			t.Fatal(err)
		}
		read := []string{"get", "list", "watch"}
		if _, err := client.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "gitops-viewer"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: read},
		}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "gitops-viewer"},
			Subjects:   []rbacv1.Subject{{Kind: "User", Name: "gitops-viewer", APIGroup: "rbac.authorization.k8s.io"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "gitops-viewer"},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// (The RoleBinding takes a moment to reach the authorizer.)
		eventually(t, 30*time.Second, "a viewer's status naming the owner it cannot read", func(context.Context) error {
			stdout, stderr, code := runPyroll(t, time.Minute, viewer, "-n", ns, "status", "orders", "-o", "json")
			doc := cli.StatusList{}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Items) != 1 || doc.Items[0].Owner == nil || doc.Items[0].Owner.Access != "no access" {
				return errorf("exit %d, %v\n%s%s", code, err, stdout, stderr)
			}
			return nil
		})
		_, stderr, code = runPyroll(t, time.Minute, viewer, "-n", ns, "rollback", "orders", "--yes", "--hold-gitops")
		if code != 1 {
			t.Errorf("a viewer's rollback --hold-gitops: exit %d, want 1\n%s", code, stderr)
		}
		k, err = app.Kustomization(ctx, dyn)
		if err != nil {
			t.Fatal(err)
		}
		if suspended, _, _ := unstructured.NestedBool(k.Object, "spec", "suspend"); suspended {
			t.Error("a viewer suspended the Kustomization")
		}
	})

	// The guard halting a breaching canary under Flux holds the Kustomization first (its
	// default, --hold-gitops flux-halts): Flux would remove the pause within its interval.
	t.Run("FluxGuardHalt", func(t *testing.T) {
		v1 := workload.Release{Namespace: ns, Name: "billing", Image: "ghcr.io/acme/billing:3.0.0", Version: "3.0.0",
			GitSHA: "7777777777777777777777777777777777777777", Replicas: 2, ErrorRate: 0.002, TrafficRPS: 20}
		v2 := v1
		v2.Image, v2.Version, v2.GitSHA = "ghcr.io/acme/billing:3.1.0", "3.1.0", "8888888888888888888888888888888888888888"
		// The canary serves but never becomes available: it stays beside the stable pods.
		v2.ErrorRate, v2.MinReadySeconds, v2.ProgressDeadlineSeconds = 0.05, 3600, 7200
		app := fluxDeployed(t, sb, v1)
		fluxCommitted(t, sb, app, v2)
		config := filepath.Join(t.TempDir(), "pyroll.yaml")
		if err := os.WriteFile(config, []byte("thresholds:\n  maxErrorRate: 0.01\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		g := startStreaming(t, true, sb.Kubeconfig, "guard", "--prometheus-url", sb.PrometheusURL, "--metrics-interval", "2s", "-o", "json",
			"--config", config, "-n", ns, "-l", "app=billing", "--after", "2", "--action", "halt")
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("guard log:\n%s", strings.Join(g.output(), "\n"))
			}
		})
		eventually(t, 3*time.Minute, "billing halted by the guard, its Kustomization suspended first", func(ctx context.Context) error {
			d := deploymentIn(t, sb, ns, "billing")
			k, err := app.Kustomization(ctx, dyn)
			if err != nil {
				return err
			}
			suspended, _, _ := unstructured.NestedBool(k.Object, "spec", "suspend")
			if !d.Spec.Paused || !suspended || k.GetAnnotations()[owner.HeldAnnotation] == "" {
				return errorf("paused %v, Kustomization suspended %v, held %q", d.Spec.Paused, suspended, k.GetAnnotations()[owner.HeldAnnotation])
			}
			return nil
		})
		consistently(t, 3*gitopsInterval, "the guard's halt kept for three intervals", func() error {
			if !deploymentIn(t, sb, ns, "billing").Spec.Paused {
				return errorf("Flux removed the pause")
			}
			return nil
		})
		var last intent.LastAction
		if err := json.Unmarshal([]byte(deploymentIn(t, sb, ns, "billing").Annotations[intent.LastActionAnnotation]), &last); err != nil ||
			last.Action != intent.Halt || last.Held != "Flux Kustomization "+sandbox.FluxNamespace+"/billing" {
			t.Errorf("the guard's audit record does not name the hold: %+v (%v)", last, err)
		}
	})

	// Argo CD's real Application schema (no controller runs): detection by tracking id, the
	// hold and its exact release, and the refusal to release what someone changed since.
	t.Run("ArgoCD", func(t *testing.T) {
		v1 := workload.Release{Namespace: ns, Name: "checkout", Image: "ghcr.io/acme/checkout:4.1.0", Version: "4.1.0",
			GitSHA: "5555555555555555555555555555555555555555", Replicas: 2, NoTraffic: true}
		v2 := v1
		v2.Image, v2.Version, v2.GitSHA = "ghcr.io/acme/checkout:4.2.0", "4.2.0", "6666666666666666666666666666666666666666"
		for _, r := range []workload.Release{v1, v2} {
			if _, err := r.Apply(ctx, client); err != nil {
				t.Fatal(err)
			}
			if err := workload.WaitDeployment(ctx, client, ns, "checkout", 2*time.Minute, "complete on "+r.Version, workload.DeploymentComplete); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := gitops.CreateArgoCDApplication(ctx, dyn, gitops.ArgoCDApp{Name: "checkout", RepoURL: "http://127.0.0.1:9/deploy.git", Path: "checkout", DestNamespace: ns}); err != nil {
			t.Fatal(err)
		}
		if err := gitops.TrackDeploymentByArgoCD(ctx, client, "checkout", ns, "checkout"); err != nil {
			t.Fatal(err)
		}
		automated := func() map[string]any {
			app, err := dyn.Resource(owner.ApplicationResource).Namespace(sandbox.ArgoCDNamespace).Get(ctx, "checkout", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			policy, _, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
			if _, held := app.GetAnnotations()[owner.HeldSyncPolicyAnnotation]; held {
				policy["(held)"] = true
			}
			return policy
		}
		_, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "checkout", "--yes")
		if code != 1 || !strings.Contains(stderr, "Argo CD app "+sandbox.ArgoCDNamespace+"/checkout (self-heal on) will put") {
			t.Fatalf("rollback under Argo CD self-heal without --hold-gitops: exit %d\n%s", code, stderr)
		}
		stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "checkout", "--yes", "--hold-gitops")
		if code != 0 || !strings.Contains(stdout, "Argo CD app "+sandbox.ArgoCDNamespace+"/checkout held first") {
			t.Fatalf("rollback --hold-gitops: exit %d\n%s%s", code, stdout, stderr)
		}
		if p := automated(); p["enabled"] != false || p["selfHeal"] != true || p["prune"] != true || p["(held)"] != true {
			t.Errorf("the Application after the hold: automated %v, want enabled=false with selfHeal and prune kept, and the hold recorded", p)
		}
		if err := wantImage(ctx, sb, ns, "checkout", v1.Image); err != nil {
			t.Error(err)
		}
		if _, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "release-hold", "checkout"); code != 0 {
			t.Fatalf("release-hold: exit %d\n%s", code, stderr)
		}
		if p := automated(); len(p) != 2 || p["selfHeal"] != true || p["prune"] != true {
			t.Errorf("the Application after release-hold: automated %v, want exactly {prune: true, selfHeal: true} as before the hold", p)
		}
		// Held again, then someone turns auto-sync back on: release-hold keeps theirs.
		if _, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "halt", "checkout", "--hold-gitops"); code != 0 {
			t.Fatalf("halt: exit %d\n%s", code, stderr)
		}
		if p := automated(); p["(held)"] == true {
			t.Errorf("a halt under Argo CD held auto-sync (Argo CD leaves spec.paused alone): %v", p)
		}
		if _, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "promote", "checkout"); code != 0 {
			t.Fatalf("promote: exit %d\n%s", code, stderr)
		}
		if _, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "checkout", "--yes", "--hold-gitops"); code != 0 {
			t.Fatalf("second rollback --hold-gitops: exit %d\n%s", code, stderr)
		}
		if _, err := gitops.SetArgoCDAutoSync(ctx, dyn, "checkout", true); err != nil {
			t.Fatal(err)
		}
		_, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "release-hold", "checkout")
		if code != 1 || !strings.Contains(stderr, "changed since the hold") {
			t.Errorf("release-hold after someone turned auto-sync back on: exit %d, want 1 saying it changed\n%s", code, stderr)
		}
		if p := automated(); p["enabled"] != true {
			t.Errorf("release-hold overwrote the policy someone set since the hold: %v", p)
		}
	})

	t.Run("Helm", func(t *testing.T) {
		v1 := workload.Release{Namespace: ns, Name: "payments", Image: "ghcr.io/acme/payments:1.0.0", Version: "1.0.0",
			GitSHA: "3333333333333333333333333333333333333333", Replicas: 2, NoTraffic: true}
		v2 := v1
		v2.Image, v2.Version, v2.GitSHA = "ghcr.io/acme/payments:1.1.0", "1.1.0", "4444444444444444444444444444444444444444"
		if err := gitops.HelmInstall(ctx, sb, "payments", gitops.HelmChart{Version: "0.4.1", Release: v1}); err != nil {
			t.Fatal(err)
		}
		if err := workload.WaitDeployment(ctx, client, ns, "payments", 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
			t.Fatal(err)
		}
		if err := gitops.HelmUpgrade(ctx, sb, "payments", gitops.HelmChart{Version: "0.4.2", Release: v2}); err != nil {
			t.Fatal(err)
		}
		if err := workload.WaitDeployment(ctx, client, ns, "payments", 2*time.Minute, "complete on 1.1.0", workload.DeploymentComplete); err != nil {
			t.Fatal(err)
		}
		// history names each revision's chart.
		stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "history", "payments")
		if code != 0 || !strings.Contains(stdout, "CHART") || !strings.Contains(stdout, "payments-0.4.1 (app 1.0.0, release 1)") || !strings.Contains(stdout, "payments-0.4.2 (app 1.1.0, release 2)") {
			t.Errorf("history of a Helm release: exit %d\n%s%s", code, stdout, stderr)
		}
		// Helm is not holdable: the rollback is refused without --force, then written.
		_, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "payments", "--yes")
		if code != 1 || !strings.Contains(stderr, "helm upgrade") {
			t.Fatalf("rollback under Helm without --force: exit %d\n%s", code, stderr)
		}
		if _, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "payments", "--yes", "--force"); code != 0 {
			t.Fatalf("rollback --force under Helm: exit %d\n%s", code, stderr)
		}
		// The drift shows.
		stdout, _, _ = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "status", "payments", "-o", "json")
		var doc cli.StatusList
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Items) != 1 || doc.Items[0].Owner == nil {
			t.Fatalf("status -o json: %v\n%s", err, stdout)
		}
		if o := doc.Items[0].Owner; o.Tool != owner.Helm || !strings.Contains(o.Drift.String(), "1.1.0 in the release, ghcr.io/acme/payments:1.0.0 live") || o.ServerSideApply != "on" {
			t.Errorf("status owner after the rollback: %+v", o)
		}
		// Helm 4's next upgrade conflicts over what the rollback wrote...
		if err := gitops.HelmUpgrade(ctx, sb, "payments", gitops.HelmChart{Version: "0.4.2", Release: v2}); err == nil || !strings.Contains(err.Error(), "conflict") {
			t.Fatalf("helm upgrade after the rollback: %v, want a conflict with kubectl-pyroll", err)
		}
		// ...until release-hold gives the fields back.
		stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "release-hold", "payments")
		if code != 0 {
			t.Fatalf("release-hold: exit %d\n%s%s", code, stdout, stderr)
		}
		if err := gitops.HelmUpgrade(ctx, sb, "payments", gitops.HelmChart{Version: "0.4.2", Release: v2}); err != nil {
			t.Fatalf("helm upgrade after release-hold: %v", err)
		}
		if err := wantImage(ctx, sb, ns, "payments", v2.Image); err != nil {
			t.Error(err)
		}
	})
}

func deploymentIn(t *testing.T, sb *sandbox.Sandbox, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := sb.Client().AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
