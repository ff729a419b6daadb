package gitops

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// ApplicationsResource is Argo CD's Application (argoproj.io/v1alpha1).
var ApplicationsResource = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// ArgoCDTrackingIDAnnotation is the annotation Argo CD (annotation tracking, its default since
// v3) puts on every object an Application manages.
const ArgoCDTrackingIDAnnotation = "argocd.argoproj.io/tracking-id"

// ArgoCDApp is an Argo CD Application that deploys Path of RepoURL into DestNamespace, with
// automated sync and self-heal on, as a team that lets Argo CD revert drift has it.
type ArgoCDApp struct {
	Name           string
	Project        string // default "default"
	RepoURL        string // e.g. a sandbox GitRepo's URL
	Path           string
	TargetRevision string // default sandbox.GitBranch
	DestNamespace  string
}

// Object is the Application as a person would apply it, in sandbox.ArgoCDNamespace.
func (a ArgoCDApp) Object() *unstructured.Unstructured {
	project, revision := a.Project, a.TargetRevision
	if project == "" {
		project = "default"
	}
	if revision == "" {
		revision = sandbox.GitBranch
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		// Without Argo CD's resources-finalizer: no controller runs to remove it, and a
		// deleted Application (or its namespace) would hang.
		"metadata": map[string]any{"name": a.Name, "namespace": sandbox.ArgoCDNamespace},
		"spec": map[string]any{
			"project": project,
			"source": map[string]any{
				"repoURL":        a.RepoURL,
				"path":           a.Path,
				"targetRevision": revision,
			},
			"destination": map[string]any{
				"server":    "https://kubernetes.default.svc",
				"namespace": a.DestNamespace,
			},
			"syncPolicy": map[string]any{
				"automated": map[string]any{"prune": true, "selfHeal": true},
			},
		},
	}}
}

// CreateArgoCDApplication creates the Application (the sandbox needs Options.ArgoCDCRD) and
// returns it as the API server stored it, defaults and all.
func CreateArgoCDApplication(ctx context.Context, dyn dynamic.Interface, app ArgoCDApp) (*unstructured.Unstructured, error) {
	created, err := dyn.Resource(ApplicationsResource).Namespace(sandbox.ArgoCDNamespace).Create(ctx, app.Object(), metav1.CreateOptions{FieldManager: "pyroll-sandbox"})
	if err != nil {
		return nil, fmt.Errorf("create argo cd Application %s: %w", app.Name, err)
	}
	return created, nil
}

// SetArgoCDAutoSync sets the Application's spec.syncPolicy.automated.enabled (Argo CD v3's
// switch for automated sync that keeps prune and selfHeal as they are), as `kubectl pyroll`
// would to hold a release.
func SetArgoCDAutoSync(ctx context.Context, dyn dynamic.Interface, name string, enabled bool) (*unstructured.Unstructured, error) {
	patch := fmt.Sprintf(`{"spec":{"syncPolicy":{"automated":{"enabled":%t}}}}`, enabled)
	got, err := dyn.Resource(ApplicationsResource).Namespace(sandbox.ArgoCDNamespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "pyroll-sandbox"})
	if err != nil {
		return nil, fmt.Errorf("set automated.enabled=%t on argo cd Application %s: %w", enabled, name, err)
	}
	return got, nil
}

// ArgoCDTrackingID is the tracking id Argo CD writes on an object of group/kind ns/name that
// Application app manages: "<app>:<group>/<kind>:<ns>/<name>".
func ArgoCDTrackingID(app, group, kind, ns, name string) string {
	return fmt.Sprintf("%s:%s/%s:%s/%s", app, group, kind, ns, name)
}

// TrackDeploymentByArgoCD annotates the Deployment ns/name as Argo CD does one that
// Application app manages (argocd.argoproj.io/tracking-id), as no Argo CD controller runs to
// do it.
func TrackDeploymentByArgoCD(ctx context.Context, client kubernetes.Interface, app, ns, name string) error {
	id := ArgoCDTrackingID(app, "apps", "Deployment", ns, name)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, ArgoCDTrackingIDAnnotation, id)
	_, err := client.AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "argocd-controller"})
	if err != nil {
		return fmt.Errorf("track deployment %s/%s by argo cd Application %s: %w", ns, name, app, err)
	}
	return nil
}
