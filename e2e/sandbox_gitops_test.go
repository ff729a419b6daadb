//go:build e2e

// The sandbox's own test of its GitOps toolchain (it tests the test bed, not kubectl-pyroll):
// Flux's real controllers apply a Deployment from the sandbox's Git server and revert a change
// made beside them, unless suspended; the real helm CLI installs and upgrades a chart; Argo
// CD's real Application schema takes an Application and the patch that turns its automated
// sync off. Named TestSandbox..., as in sandbox_cluster_test.go.

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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/gitops"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// The Flux app's intervals: the GitRepository fetches every 5s, the Kustomization applies
// every 10s, so "a couple of intervals" is 20s; the waits allow for a loaded machine.
const (
	gitopsSourceInterval = 5 * time.Second
	gitopsInterval       = 10 * time.Second
)

// PYROLL_CAPTURE_FIXTURES=DIR makes the test write the objects Flux, Helm and the Argo CD
// schema really produced (as the API serves them) into DIR, for internal/owner's testdata.
func captureFixture(t *testing.T, name string, obj any) {
	t.Helper()
	dir := os.Getenv("PYROLL_CAPTURE_FIXTURES")
	if dir == "" {
		return
	}
	var data []byte
	var err error
	if strings.HasSuffix(name, ".json") {
		data, err = json.MarshalIndent(obj, "", "  ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(obj)
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	if err != nil {
		t.Fatalf("capture %s: %v", name, err)
	}
	t.Logf("captured %s", filepath.Join(dir, name))
}

func TestSandboxGitOpsToolchain(t *testing.T) {
	sb, ns := gitopsSandbox(t)
	ctx := context.Background()
	client, dyn := sb.Client(), sb.Dynamic()

	t.Run("FluxAppliesAndRevertsDrift", func(t *testing.T) {
		release := workload.Release{
			Namespace: ns, Name: "orders", Image: "ghcr.io/acme/orders:1.8.0", Version: "1.8.0",
			GitSHA: "8b1d0c2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c", Replicas: 2, NoTraffic: true,
		}
		began := time.Now()
		app := fluxDeployed(t, sb, release)
		t.Logf("flux applied commit %s and the deployment is complete %s after the commit", app.Revision[:8], time.Since(began).Round(100*time.Millisecond))
		d, err := client.AppsV1().Deployments(ns).Get(ctx, "orders", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// kustomize-controller's own marks: its labels and its server-side apply.
		if d.Labels["kustomize.toolkit.fluxcd.io/name"] != "orders" || d.Labels["kustomize.toolkit.fluxcd.io/namespace"] != sandbox.FluxNamespace {
			t.Errorf("deployment labels %v; want kustomize.toolkit.fluxcd.io/name=orders, namespace=%s", d.Labels, sandbox.FluxNamespace)
		}
		if !managedBy(d, "kustomize-controller", metav1.ManagedFieldsOperationApply) {
			t.Errorf("deployment managed fields %v; want kustomize-controller's Apply", managers(d))
		}
		captureFixture(t, "flux/deployment-kustomized-real.yaml", d)

		// Another field manager changes the image; Flux's next apply puts the commit's back.
		hotfix := "ghcr.io/acme/orders:1.8.1-hotfix"
		setImage(t, ctx, sb, ns, "orders", hotfix)
		changed := time.Now()
		eventually(t, 3*gitopsInterval+15*time.Second, "flux reverting the image", func(ctx context.Context) error {
			return wantImage(ctx, sb, ns, "orders", release.Image)
		})
		t.Logf("flux reverted the image %s after the change (Kustomization interval %s)", time.Since(changed).Round(100*time.Millisecond), gitopsInterval)

		// Suspended, Flux leaves the change be, for more than two intervals.
		if err := app.Suspend(ctx, dyn, true, time.Minute); err != nil {
			t.Fatal(err)
		}
		setImage(t, ctx, sb, ns, "orders", hotfix)
		consistently(t, 2*gitopsInterval+5*time.Second, "the hand-made image kept while suspended", func() error {
			return wantImage(context.Background(), sb, ns, "orders", hotfix)
		})
		k, err := app.Kustomization(ctx, dyn)
		if err != nil {
			t.Fatal(err)
		}
		if suspended, _, _ := unstructured.NestedBool(k.Object, "spec", "suspend"); !suspended {
			t.Errorf("kustomization spec.suspend not true: %v", k.Object["spec"])
		}
		captureFixture(t, "flux/kustomization-suspended-real.yaml", k.Object)

		// Resumed, Flux applies again: the commit's image is back.
		if err := app.Suspend(ctx, dyn, false, time.Minute); err != nil {
			t.Fatal(err)
		}
		eventually(t, 3*gitopsInterval+15*time.Second, "flux reverting the image once resumed", func(ctx context.Context) error {
			return wantImage(ctx, sb, ns, "orders", release.Image)
		})
		// A new commit is applied too: the GitRepository fetches it, the Kustomization applies it.
		next := release
		next.Image, next.Version = "ghcr.io/acme/orders:1.9.0", "1.9.0"
		sha, err := app.Commit(next, "orders 1.9.0")
		if err != nil {
			t.Fatal(err)
		}
		if err := app.WaitApplied(ctx, dyn, sha, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the new commit's image", func(ctx context.Context) error {
			return wantImage(ctx, sb, ns, "orders", next.Image)
		})
		if k, err = app.Kustomization(ctx, dyn); err != nil {
			t.Fatal(err)
		}
		captureFixture(t, "flux/kustomization-real.yaml", k.Object)
	})

	t.Run("HelmInstallUpgrade", func(t *testing.T) {
		release := workload.Release{
			Namespace: ns, Name: "payments", Image: "ghcr.io/acme/payments:2.0.0", Version: "2.0.0",
			GitSHA: "3f2c1a9e5b7d40c18e6a2f9b0c4d7e1a5b8c3f20", Replicas: 2, NoTraffic: true,
		}
		if err := gitops.HelmInstall(ctx, sb, "payments", gitops.HelmChart{Version: "0.4.1", Release: release}); err != nil {
			t.Fatal(err)
		}
		if err := workload.WaitDeployment(ctx, client, ns, "payments", 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
			t.Fatal(err)
		}
		upgraded := release
		upgraded.Image, upgraded.Version = "ghcr.io/acme/payments:2.1.0", "2.1.0"
		if err := gitops.HelmUpgrade(ctx, sb, "payments", gitops.HelmChart{Version: "0.4.2", Release: upgraded}); err != nil {
			t.Fatal(err)
		}
		if err := workload.WaitDeployment(ctx, client, ns, "payments", 2*time.Minute, "complete with 2.1.0", func(d *appsv1.Deployment) bool {
			return workload.DeploymentComplete(d) && d.Spec.Template.Spec.Containers[0].Image == upgraded.Image
		}); err != nil {
			t.Fatal(err)
		}
		v2, err := client.CoreV1().Secrets(ns).Get(ctx, gitops.HelmReleaseSecret("payments", 2), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v2.Type != "helm.sh/release.v1" || v2.Labels["owner"] != "helm" || v2.Labels["name"] != "payments" || v2.Labels["status"] != "deployed" || v2.Labels["version"] != "2" {
			t.Errorf("release secret %s: type %q, labels %v; want helm.sh/release.v1, owner=helm name=payments status=deployed version=2", v2.Name, v2.Type, v2.Labels)
		}
		v1, err := client.CoreV1().Secrets(ns).Get(ctx, gitops.HelmReleaseSecret("payments", 1), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v1.Labels["status"] != "superseded" {
			t.Errorf("release secret %s: status %q; want superseded", v1.Name, v1.Labels["status"])
		}
		d, err := client.AppsV1().Deployments(ns).Get(ctx, "payments", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Helm's ownership marks, which `helm install` adds to every object it creates.
		if d.Annotations["meta.helm.sh/release-name"] != "payments" || d.Annotations["meta.helm.sh/release-namespace"] != ns || d.Labels["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("deployment annotations %v, labels %v; want Helm's release-name/namespace and managed-by", d.Annotations, d.Labels)
		}
		if d.Labels["helm.sh/chart"] != "payments-0.4.2" || d.Labels["app.kubernetes.io/version"] != "2.1.0" {
			t.Errorf("deployment labels %v; want helm.sh/chart=payments-0.4.2, app.kubernetes.io/version=2.1.0", d.Labels)
		}
		v2.APIVersion, v2.Kind = "v1", "Secret"
		d.APIVersion, d.Kind = "apps/v1", "Deployment"
		captureFixture(t, "helm/secret-payments-v2-real.json", v2)
		captureFixture(t, "helm/deployment-payments-real.yaml", d)
	})

	t.Run("ArgoCDApplication", func(t *testing.T) {
		release := workload.Release{
			Namespace: ns, Name: "checkout", Image: "ghcr.io/acme/checkout:4.2.0", Version: "4.2.0",
			GitSHA: "5b8c3f203f2c1a9e5b7d40c18e6a2f9b0c4d7e1a", Replicas: 1, NoTraffic: true,
		}
		if _, err := release.Apply(ctx, client); err != nil {
			t.Fatal(err)
		}
		repo, err := sb.GitRepo("checkout")
		if err != nil {
			t.Fatal(err)
		}
		app, err := gitops.CreateArgoCDApplication(ctx, dyn, gitops.ArgoCDApp{Name: "checkout", RepoURL: repo.URL(), Path: "checkout", DestNamespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		if selfHeal, _, _ := unstructured.NestedBool(app.Object, "spec", "syncPolicy", "automated", "selfHeal"); !selfHeal {
			t.Errorf("application's automated sync policy %v; want selfHeal", app.Object["spec"])
		}
		captureFixture(t, "argocd/application-real.yaml", app.Object)
		if err := gitops.TrackDeploymentByArgoCD(ctx, client, "checkout", ns, "checkout"); err != nil {
			t.Fatal(err)
		}
		d, err := client.AppsV1().Deployments(ns).Get(ctx, "checkout", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.Annotations[gitops.ArgoCDTrackingIDAnnotation], "checkout:apps/Deployment:"+ns+"/checkout"; got != want {
			t.Errorf("tracking id %q; want %q", got, want)
		}

		// What `kubectl pyroll` does to hold an Argo CD app: automated sync off, selfHeal kept.
		patched, err := gitops.SetArgoCDAutoSync(ctx, dyn, "checkout", false)
		if err != nil {
			t.Fatal(err)
		}
		automated, _, _ := unstructured.NestedMap(patched.Object, "spec", "syncPolicy", "automated")
		if automated["enabled"] != false || automated["selfHeal"] != true || automated["prune"] != true {
			t.Errorf("automated after the patch: %v; want enabled=false with selfHeal and prune kept", automated)
		}
		// The schema is Argo CD's own: a field of the wrong type is refused, which a CRD that
		// preserved unknown fields would have taken.
		_, err = dyn.Resource(gitops.ApplicationsResource).Namespace(sandbox.ArgoCDNamespace).Patch(ctx, "checkout", types.MergePatchType,
			[]byte(`{"spec":{"syncPolicy":{"automated":{"enabled":"no"}}}}`), metav1.PatchOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("automated.enabled set to a string: %v; want the API server's Invalid", err)
		}
		// No deployment fixture: the tracking id is the helper's, not Argo CD's.
		captureFixture(t, "argocd/application-autosync-off-real.yaml", patched.Object)
	})
}

// gitopsSandbox is a sandbox of the test's own with Flux's controllers and Argo CD's
// Application CRD, and the namespace the GitOps tests deploy to.
func gitopsSandbox(t *testing.T) (*sandbox.Sandbox, string) {
	t.Helper()
	sb := sandboxtest.Start(t, sandbox.Options{Flux: true, ArgoCDCRD: true, NoArgo: true, Nodes: 1})
	const ns = "shop"
	if err := workload.EnsureNamespace(context.Background(), sb.Client(), ns); err != nil {
		t.Fatal(err)
	}
	return sb, ns
}

// fluxDeployed puts release under Flux (an app, its GitRepository and Kustomization named
// after it, the test's intervals) and waits until Flux applied it and it is complete.
func fluxDeployed(t *testing.T, sb *sandbox.Sandbox, release workload.Release) *gitops.FluxApp {
	t.Helper()
	ctx := context.Background()
	app, err := gitops.FluxDeploy(ctx, sb, release.Name, release, gitops.FluxOptions{SourceInterval: gitopsSourceInterval, Interval: gitopsInterval})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.WaitApplied(ctx, sb.Dynamic(), app.Revision, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(ctx, sb.Client(), release.Namespace, release.Name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
	return app
}

// fluxCommitted commits release to app's repository and waits until Flux applied it.
func fluxCommitted(t *testing.T, sb *sandbox.Sandbox, app *gitops.FluxApp, release workload.Release) {
	t.Helper()
	sha, err := app.Commit(release, release.Name+" "+release.Version)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.WaitApplied(context.Background(), sb.Dynamic(), sha, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
}

func setImage(t *testing.T, ctx context.Context, sb *sandbox.Sandbox, ns, name, image string) {
	t.Helper()
	deployments := sb.Client().AppsV1().Deployments(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deployments.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		// An Update, as kubectl-pyroll's own writes are, under its field manager.
		_, err = deployments.Update(ctx, d, metav1.UpdateOptions{FieldManager: "kubectl-pyroll"})
		return err
	})
	if err != nil {
		t.Fatalf("set image of %s/%s to %s: %v", ns, name, image, err)
	}
}

func wantImage(ctx context.Context, sb *sandbox.Sandbox, ns, name, image string) error {
	d, err := sb.Client().AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
		return errorf("%s/%s runs %s; want %s", ns, name, got, image)
	}
	return nil
}

func managedBy(d *appsv1.Deployment, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, f := range d.ManagedFields {
		if f.Manager == manager && f.Operation == op {
			return true
		}
	}
	return false
}

func managers(d *appsv1.Deployment) []string {
	var out []string
	for _, f := range d.ManagedFields {
		out = append(out, f.Manager+"/"+string(f.Operation))
	}
	return out
}
