// Package owner says who else writes a rollout (Argo CD, Flux, Helm), what that owner
// will do to each of kubectl-pyroll's actions, and how to hold it and give it back. It is
// pure: the live rollout object and the owner object come in (API types, unstructured
// objects, Helm's release Secrets), a View and patches go out. It never imports the
// argo-cd, flux or helm Go modules: their objects are read through small hand-written
// JSON types, as internal/argo reads Argo Rollouts. internal/kube reads the owner object
// (one GET, cached by resourceVersion) and hands it here.
//
// Detection follows what each tool writes on the objects it applies:
//   - Argo CD: annotation argocd.argoproj.io/tracking-id, "<app>:<group>/<kind>:<ns>/<name>",
//     where <app> is "<appNamespace>_<appName>" when the Application lives outside Argo CD's
//     control-plane namespace (argo-cd util/argo/resource_tracking.go ParseAppInstanceValue,
//     AppInstanceName). Argo CD ignores an id that does not name the object it sits on (a
//     copied annotation: controller/state.go isSelfReferencedObj), and so do we. Weaker: the
//     label app.kubernetes.io/instance (label tracking, or anything a chart copies).
//   - Flux: labels kustomize.toolkit.fluxcd.io/name|namespace (a Kustomization) and
//     helm.toolkit.fluxcd.io/name|namespace (a HelmRelease).
//   - Helm: annotations meta.helm.sh/release-name|namespace.
package owner

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// Tool is the delivery tool that writes a rollout.
type Tool string

const (
	ArgoCD Tool = "Argo CD"
	Flux   Tool = "Flux"
	Helm   Tool = "Helm"
)

// Kinds of owner objects.
const (
	KindApplication   = "Application"   // argoproj.io/v1alpha1
	KindKustomization = "Kustomization" // kustomize.toolkit.fluxcd.io/v1
	KindHelmRelease   = "HelmRelease"   // helm.toolkit.fluxcd.io/v2
	KindRelease       = "Release"       // a Helm release (its Secrets sh.helm.release.v1.<name>.v<N>)
)

// The API resources of the owner objects (the Helm release is Secrets, core v1).
var (
	ApplicationResource   = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	KustomizationResource = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	HelmReleaseResource   = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
)

// Labels and annotations the tools write on the objects they apply.
const (
	ArgoCDTrackingIDAnnotation = "argocd.argoproj.io/tracking-id"
	ArgoCDInstanceLabel        = "app.kubernetes.io/instance"
	FluxKustomizeNameLabel     = "kustomize.toolkit.fluxcd.io/name"
	FluxKustomizeNSLabel       = "kustomize.toolkit.fluxcd.io/namespace"
	FluxHelmNameLabel          = "helm.toolkit.fluxcd.io/name"
	FluxHelmNSLabel            = "helm.toolkit.fluxcd.io/namespace"
	// FluxReconcileAnnotation set to "disabled" on an object makes kustomize-controller
	// leave it alone (it still creates it when missing).
	FluxReconcileAnnotation   = "kustomize.toolkit.fluxcd.io/reconcile"
	HelmReleaseNameAnnotation = "meta.helm.sh/release-name"
	HelmReleaseNSAnnotation   = "meta.helm.sh/release-namespace"
)

// DefaultArgoCDNamespace is Argo CD's usual control-plane namespace: an Application named
// without "<ns>_" in a tracking id lives there.
const DefaultArgoCDNamespace = "argocd"

// Ref names the object that writes a rollout, as the rollout's own metadata names it.
// Names are raw (for requests); the view's texts are sanitised.
type Ref struct {
	Tool      Tool
	Kind      string // KindApplication, KindKustomization, KindHelmRelease, KindRelease
	Namespace string // where the owner object lives (Helm: the release's namespace)
	Name      string
	// Weak: found only by a label anyone may copy (app.kubernetes.io/instance, which most
	// Helm charts set to the release name), so the owner may be someone else.
	Weak bool
	// By is what named it: "annotation argocd.argoproj.io/tracking-id".
	By string
}

// String is "Argo CD app argocd/orders", "Flux Kustomization flux-system/apps", "Helm
// release shop/orders" (raw; sanitise before printing).
func (r Ref) String() string {
	word := r.Kind
	switch r.Kind {
	case KindApplication:
		word = "app"
	case KindRelease:
		word = "release"
	}
	return string(r.Tool) + " " + word + " " + r.Namespace + "/" + r.Name
}

// Resource is the API resource of the owner object (zero for a Helm release).
func (r Ref) Resource() schema.GroupVersionResource {
	switch r.Kind {
	case KindApplication:
		return ApplicationResource
	case KindKustomization:
		return KustomizationResource
	case KindHelmRelease:
		return HelmReleaseResource
	}
	return schema.GroupVersionResource{}
}

// Detection is who writes a rollout, from its live object alone.
type Detection struct {
	// Owner is the strongest claim, nil when nobody else writes the rollout.
	Owner *Ref
	// Others are the other claims, strongest first (a Flux HelmRelease's object also
	// carries Helm's annotations; a weak Argo CD label beside a Flux label).
	Others []Ref
	// ReconcileDisabled: the object carries kustomize.toolkit.fluxcd.io/reconcile:
	// disabled, so Flux's kustomize-controller does not put it back.
	ReconcileDisabled bool
	// IgnoredTrackingID is an argocd.argoproj.io/tracking-id that names another object
	// (a copied annotation), kept to say why it was ignored; "" when none.
	IgnoredTrackingID string
}

// Options tune detection to the cluster.
type Options struct {
	// ArgoCDNamespace is Argo CD's control-plane namespace; DefaultArgoCDNamespace if "".
	ArgoCDNamespace string
	// ArgoCDInstanceLabel is argocd-cm's application.instanceLabelKey;
	// ArgoCDInstanceLabel ("app.kubernetes.io/instance") if "".
	ArgoCDInstanceLabel string
}

// groupKind is the API group and kind of a rollout kind, as a tracking id writes them.
func groupKind(kind ref.Kind) (group, k string) {
	switch kind {
	case ref.ArgoRollout:
		return "argoproj.io", "Rollout"
	default:
		return "apps", "Deployment"
	}
}

// TrackingID is a parsed argocd.argoproj.io/tracking-id.
type TrackingID struct {
	App                    string // "<app>" or "<appNamespace>_<app>"
	Group, Kind, Namespace string
	Name                   string
}

// ParseTrackingID parses "<app>:<group>/<kind>:<namespace>/<name>" as Argo CD does
// (ParseAppInstanceValue: three parts on ':', two on '/' each).
func ParseTrackingID(value string) (TrackingID, bool) {
	parts := strings.SplitN(value, ":", 3)
	if len(parts) != 3 {
		return TrackingID{}, false
	}
	gk := strings.Split(parts[1], "/")
	nn := strings.Split(parts[2], "/")
	if len(gk) != 2 || len(nn) != 2 || parts[0] == "" {
		return TrackingID{}, false
	}
	return TrackingID{App: parts[0], Group: gk[0], Kind: gk[1], Namespace: nn[0], Name: nn[1]}, true
}

// names says whether the id names obj of that kind, as Argo CD's isSelfReferencedObj
// decides (namespace equal, or the object cluster-scoped).
func (t TrackingID) names(kind ref.Kind, obj metav1.Object) bool {
	group, k := groupKind(kind)
	return t.Group == group && t.Kind == k && t.Name == obj.GetName() &&
		(obj.GetNamespace() == "" || obj.GetNamespace() == t.Namespace)
}

// appName splits an Argo CD instance name "<ns>_<app>" (argo-cd ParseInstanceName);
// a plain "<app>" lives in the control-plane namespace.
func appName(instance, controlPlane string) (namespace, name string) {
	if ns, n, ok := strings.Cut(instance, "_"); ok {
		return ns, n
	}
	return controlPlane, instance
}

// Detect says who writes obj, a rollout of that kind (a Deployment or an Argo Rollout),
// from its labels and annotations.
func Detect(kind ref.Kind, obj metav1.Object, opts Options) Detection {
	if opts.ArgoCDNamespace == "" {
		opts.ArgoCDNamespace = DefaultArgoCDNamespace
	}
	if opts.ArgoCDInstanceLabel == "" {
		opts.ArgoCDInstanceLabel = ArgoCDInstanceLabel
	}
	labels, annotations := obj.GetLabels(), obj.GetAnnotations()
	var d Detection
	var claims []Ref
	trackedByID := false
	if v, ok := annotations[ArgoCDTrackingIDAnnotation]; ok {
		if id, ok := ParseTrackingID(v); ok && id.names(kind, obj) {
			ns, name := appName(id.App, opts.ArgoCDNamespace)
			claims = append(claims, Ref{Tool: ArgoCD, Kind: KindApplication, Namespace: ns, Name: name, By: "annotation " + ArgoCDTrackingIDAnnotation})
			trackedByID = true
		} else {
			d.IgnoredTrackingID = v
		}
	}
	if name := labels[FluxKustomizeNameLabel]; name != "" {
		claims = append(claims, Ref{Tool: Flux, Kind: KindKustomization, Namespace: orDefault(labels[FluxKustomizeNSLabel], obj.GetNamespace()), Name: name, By: "label " + FluxKustomizeNameLabel})
	}
	if name := labels[FluxHelmNameLabel]; name != "" {
		claims = append(claims, Ref{Tool: Flux, Kind: KindHelmRelease, Namespace: orDefault(labels[FluxHelmNSLabel], obj.GetNamespace()), Name: name, By: "label " + FluxHelmNameLabel})
	}
	release := annotations[HelmReleaseNameAnnotation]
	if release != "" {
		claims = append(claims, Ref{Tool: Helm, Kind: KindRelease, Namespace: orDefault(annotations[HelmReleaseNSAnnotation], obj.GetNamespace()), Name: release, By: "annotation " + HelmReleaseNameAnnotation})
	}
	// The instance label is Argo CD's only under label tracking; most charts set it to
	// the release name, so beside Helm's own annotations naming that release it is the
	// chart's, not Argo CD's.
	if instance := labels[opts.ArgoCDInstanceLabel]; instance != "" && !trackedByID && instance != release {
		ns, name := appName(instance, opts.ArgoCDNamespace)
		claims = append(claims, Ref{Tool: ArgoCD, Kind: KindApplication, Namespace: ns, Name: name, Weak: true, By: "label " + opts.ArgoCDInstanceLabel})
	}
	d.ReconcileDisabled = strings.EqualFold(annotations[FluxReconcileAnnotation], "disabled")
	if len(claims) > 0 {
		// Strong claims in the order above; a weak one only leads when it is alone.
		owner := claims[0]
		d.Owner = &owner
		d.Others = claims[1:]
	}
	return d
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
