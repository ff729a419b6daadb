package owner

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

func meta(ns, name string, labels, annotations map[string]string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations}
}

func TestDetect(t *testing.T) {
	tracked := deployment(t, "argocd/deployment-tracked.yaml")
	kustomized := deployment(t, "flux/deployment-kustomized.yaml")
	helmed := deployment(t, "helm/deployment-orders-rolledback.yaml")
	type want struct {
		owner        string // Ref.String() of the owner, "" for none
		weak         bool
		others       int
		ignored      bool
		reconcileOff bool
	}
	cases := []struct {
		name string
		kind ref.Kind
		obj  metav1.Object
		opts Options
		want want
	}{
		{"tracking id in the control-plane namespace", ref.Deployment, tracked, Options{}, want{owner: "Argo CD app argocd/shop-orders"}},
		{"control-plane namespace configured", ref.Deployment, tracked, Options{ArgoCDNamespace: "gitops"}, want{owner: "Argo CD app gitops/shop-orders"}},
		{"tracking id of an app in another namespace", ref.Deployment,
			meta("shop", "orders", nil, map[string]string{ArgoCDTrackingIDAnnotation: "team-a_orders:apps/Deployment:shop/orders"}), Options{},
			want{owner: "Argo CD app team-a/orders"}},
		{"tracking id copied from another Deployment is ignored", ref.Deployment,
			meta("shop", "orders-canary", nil, map[string]string{ArgoCDTrackingIDAnnotation: "shop-orders:apps/Deployment:shop/orders"}), Options{},
			want{ignored: true}},
		{"tracking id naming another namespace is ignored", ref.Deployment,
			meta("staging", "orders", nil, map[string]string{ArgoCDTrackingIDAnnotation: "shop-orders:apps/Deployment:shop/orders"}), Options{},
			want{ignored: true}},
		{"tracking id naming another kind is ignored", ref.ArgoRollout,
			meta("shop", "orders", nil, map[string]string{ArgoCDTrackingIDAnnotation: "shop-orders:apps/Deployment:shop/orders"}), Options{},
			want{ignored: true}},
		{"an Argo Rollout's tracking id", ref.ArgoRollout,
			meta("shop", "orders", nil, map[string]string{ArgoCDTrackingIDAnnotation: "shop-orders:argoproj.io/Rollout:shop/orders"}), Options{},
			want{owner: "Argo CD app argocd/shop-orders"}},
		{"malformed tracking id is ignored", ref.Deployment,
			meta("shop", "orders", nil, map[string]string{ArgoCDTrackingIDAnnotation: "shop-orders"}), Options{},
			want{ignored: true}},
		{"ignored tracking id leaves the label, weak", ref.Deployment,
			meta("shop", "orders-canary", map[string]string{ArgoCDInstanceLabel: "shop-orders"}, map[string]string{ArgoCDTrackingIDAnnotation: "shop-orders:apps/Deployment:shop/orders"}), Options{},
			want{owner: "Argo CD app argocd/shop-orders", weak: true, ignored: true}},
		{"instance label only is weak", ref.Deployment,
			meta("shop", "orders", map[string]string{ArgoCDInstanceLabel: "shop-orders"}, nil), Options{},
			want{owner: "Argo CD app argocd/shop-orders", weak: true}},
		{"instance label of an app in another namespace", ref.Deployment,
			meta("shop", "orders", map[string]string{ArgoCDInstanceLabel: "team-a_orders"}, nil), Options{},
			want{owner: "Argo CD app team-a/orders", weak: true}},
		{"a configured instance label key", ref.Deployment,
			meta("shop", "orders", map[string]string{"argocd.example.com/app": "shop-orders", ArgoCDInstanceLabel: "orders"}, nil), Options{ArgoCDInstanceLabel: "argocd.example.com/app"},
			want{owner: "Argo CD app argocd/shop-orders", weak: true}},
		{"Flux Kustomization", ref.Deployment, kustomized, Options{}, want{owner: "Flux Kustomization flux-system/apps"}},
		{"Flux Kustomization with reconcile disabled", ref.Deployment,
			meta("shop", "payments", map[string]string{FluxKustomizeNameLabel: "apps", FluxKustomizeNSLabel: "flux-system"}, map[string]string{FluxReconcileAnnotation: "disabled"}), Options{},
			want{owner: "Flux Kustomization flux-system/apps", reconcileOff: true}},
		{"Flux HelmRelease before Helm's own annotations", ref.Deployment,
			meta("shop", "orders", map[string]string{FluxHelmNameLabel: "orders", FluxHelmNSLabel: "shop", ArgoCDInstanceLabel: "orders"},
				map[string]string{HelmReleaseNameAnnotation: "orders", HelmReleaseNSAnnotation: "shop"}), Options{},
			want{owner: "Flux HelmRelease shop/orders", others: 1}},
		{"Helm release; the chart's instance label is not Argo CD's", ref.Deployment, helmed, Options{}, want{owner: "Helm release shop/orders"}},
		{"a strong owner leads a weak label", ref.Deployment,
			meta("shop", "payments", map[string]string{FluxKustomizeNameLabel: "apps", FluxKustomizeNSLabel: "flux-system", ArgoCDInstanceLabel: "payments"}, nil), Options{},
			want{owner: "Flux Kustomization flux-system/apps", others: 1}},
		{"nobody", ref.Deployment, meta("shop", "orders", map[string]string{"app": "orders"}, nil), Options{}, want{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Detect(c.kind, c.obj, c.opts)
			got := want{others: len(d.Others), ignored: d.IgnoredTrackingID != "", reconcileOff: d.ReconcileDisabled}
			if d.Owner != nil {
				got.owner, got.weak = d.Owner.String(), d.Owner.Weak
			}
			if got != c.want {
				t.Errorf("Detect = %+v (owner %+v), want %+v", got, d.Owner, c.want)
			}
		})
	}
}

func TestParseTrackingID(t *testing.T) {
	id, ok := ParseTrackingID("team-a_orders:apps/Deployment:shop/orders")
	if !ok || id != (TrackingID{App: "team-a_orders", Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "orders"}) {
		t.Errorf("got %+v %v", id, ok)
	}
	// A core-group object has an empty group: ":/Service:" (Argo CD writes "app:/Service:ns/name").
	if id, ok := ParseTrackingID("app:/Service:shop/orders"); !ok || id.Group != "" || id.Kind != "Service" {
		t.Errorf("core group: got %+v %v", id, ok)
	}
	for _, bad := range []string{"", "app", "app:apps/Deployment", "app:apps:shop/orders", "app:apps/Deployment:orders", ":apps/Deployment:shop/orders", "app:a/b/c:shop/orders"} {
		if _, ok := ParseTrackingID(bad); ok {
			t.Errorf("ParseTrackingID(%q) accepted", bad)
		}
	}
}
