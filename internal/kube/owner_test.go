package kube

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/yaml"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

func trackedDeployment(annotations, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "orders", Annotations: annotations, Labels: labels}}
}

func application(rv string, selfHeal bool) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "shop-orders", "namespace": "argocd", "resourceVersion": rv},
		"spec":     map[string]any{"syncPolicy": map[string]any{"automated": map[string]any{"prune": true, "selfHeal": selfHeal}}},
		"status":   map[string]any{"sync": map[string]any{"revision": "3f2c1a9e5b7d40c18e6a2f9b0c4d7e1a5b8c3f20"}},
	}}
}

func TestOwnerReaderArgoCD(t *testing.T) {
	ctx := context.Background()
	dep := trackedDeployment(map[string]string{owner.ArgoCDTrackingIDAnnotation: "shop-orders:apps/Deployment:shop/orders"}, nil)
	d := owner.Detect(ref.Deployment, dep, owner.Options{})
	api := kubeapitest.WithOwners(kubeapitest.FromClientset(fake.NewClientset()),
		kubeapitest.OwnerObject{Resource: owner.ApplicationResource, Object: application("100", true)})
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC))
	r := NewOwnerReader(api, OwnerReaderOptions{MaxAge: 5 * time.Second, Clock: clk})
	target := OwnerTarget{Kind: ref.Deployment, Object: dep, Template: &dep.Spec.Template}
	gets := func() int { return api.Gets(owner.ApplicationResource, "argocd", "shop-orders") }

	v := r.Read(ctx, d, target)
	if v.Access != owner.Read || v.AutoSync != owner.Yes || v.SelfHeal != owner.Yes || gets() != 1 {
		t.Fatalf("first read: %+v, %d GETs", v, gets())
	}
	// Within MaxAge: no request.
	clk.SetTime(clk.Now().Add(4 * time.Second))
	if r.Read(ctx, d, target); gets() != 1 {
		t.Errorf("read again within MaxAge: %d GETs, want 1", gets())
	}
	// Later: one GET; the same resourceVersion keeps the view read before (the object
	// changing without its resourceVersion proves it was not decoded again).
	stale := application("100", false)
	api.Put(owner.ApplicationResource, stale)
	clk.SetTime(clk.Now().Add(2 * time.Second))
	if v := r.Read(ctx, d, target); gets() != 2 || v.SelfHeal != owner.Yes {
		t.Errorf("same resourceVersion: self-heal %v after %d GETs, want the cached on after 2", v.SelfHeal, gets())
	}
	// A new resourceVersion is read anew.
	api.Put(owner.ApplicationResource, application("101", false))
	clk.SetTime(clk.Now().Add(6 * time.Second))
	if v := r.Read(ctx, d, target); gets() != 3 || v.SelfHeal != owner.No || v.ResourceVersion != "101" {
		t.Errorf("new resourceVersion: %+v after %d GETs", v, gets())
	}

	// Refused: no access, never an error.
	api.Refuse(owner.ApplicationResource, "argocd", "shop-orders",
		apierrors.NewForbidden(schema.GroupResource{Group: "argoproj.io", Resource: "applications"}, "shop-orders", errors.New("RBAC: viewer")))
	clk.SetTime(clk.Now().Add(6 * time.Second))
	v = r.Read(ctx, d, target)
	if v.Access != owner.NoAccess || v.AutoSync != owner.Unknown || !strings.Contains(string(v.Problem), "forbidden") {
		t.Errorf("forbidden: %+v", v)
	}
	if got, want := string(v.Summary()), "managed by Argo CD app argocd/shop-orders (self-heal unknown: no access)"; got != want {
		t.Errorf("Summary %q, want %q", got, want)
	}
	// The server unreachable: the last answer stands, and is asked for again next time.
	api.Refuse(owner.ApplicationResource, "argocd", "shop-orders", errors.New("dial tcp 127.0.0.1:6443: connection refused"))
	clk.SetTime(clk.Now().Add(6 * time.Second))
	if v := r.Read(ctx, d, target); v.Access != owner.NoAccess {
		t.Errorf("unreachable: %v, want the last answer (no access)", v.Access)
	}
	before := gets()
	if r.Read(ctx, d, target); gets() != before+1 {
		t.Errorf("after a failed read the next read asks again")
	}
}

func TestOwnerReaderAbsentAndNone(t *testing.T) {
	ctx := context.Background()
	api := kubeapitest.WithOwners(kubeapitest.FromClientset(fake.NewClientset()))
	r := NewOwnerReader(api, OwnerReaderOptions{})
	dep := trackedDeployment(nil, map[string]string{owner.FluxKustomizeNameLabel: "apps", owner.FluxKustomizeNSLabel: "flux-system"})
	v := r.Read(ctx, owner.Detect(ref.Deployment, dep, owner.Options{}), OwnerTarget{Kind: ref.Deployment, Object: dep})
	if v.Access != owner.Absent || v.Ref.Kind != owner.KindKustomization {
		t.Errorf("absent Kustomization: %+v", v)
	}
	if api.Gets(owner.KustomizationResource, "flux-system", "apps") != 1 {
		t.Errorf("want one GET of the Kustomization")
	}
	plain := trackedDeployment(nil, nil)
	if v := r.Read(ctx, owner.Detect(ref.Deployment, plain, owner.Options{}), OwnerTarget{Kind: ref.Deployment, Object: plain}); v.Ref.Tool != "" {
		t.Errorf("no owner: %+v", v)
	}
}

func helmSecret(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	data, err := os.ReadFile("../owner/testdata/helm/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := yaml.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestOwnerReaderHelm(t *testing.T) {
	ctx := context.Background()
	v3 := helmSecret(t, "secret-orders-v3.json")
	other := helmSecret(t, "secret-orders-v3.json")
	other.Name, other.Labels = "sh.helm.release.v1.payments.v1", map[string]string{"owner": "helm", "name": "payments", "status": "deployed", "version": "1"}
	client := fake.NewClientset(helmSecret(t, "secret-orders-v2-plain.json"), v3, other)
	var lists atomic.Int32
	var selectors []string
	client.PrependReactor("list", "secrets", func(action k8stesting.Action) (bool, runtime.Object, error) {
		lists.Add(1)
		selectors = append(selectors, action.(k8stesting.ListAction).GetListRestrictions().Labels.String())
		return false, nil, nil
	})
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC))
	r := NewOwnerReader(kubeapitest.FromClientset(client), OwnerReaderOptions{Clock: clk})

	dep := trackedDeployment(map[string]string{owner.HelmReleaseNameAnnotation: "orders", owner.HelmReleaseNSAnnotation: "shop"}, nil)
	dep.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "helm", Operation: metav1.ManagedFieldsOperationApply}, {Manager: "kubectl-pyroll", Operation: metav1.ManagedFieldsOperationUpdate}}
	dep.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "registry.example.com/shop/orders:2.0.0",
		Command: []string{"gunicorn"}, Args: []string{"-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "orders.main:app"},
		Env: []corev1.EnvVar{{Name: "WEB_CONCURRENCY", Value: "4"}, {Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}}}}
	d := owner.Detect(ref.Deployment, dep, owner.Options{})
	target := OwnerTarget{Kind: ref.Deployment, Object: dep, Template: &dep.Spec.Template}

	v := r.Read(ctx, d, target)
	if v.Access != owner.Read || v.Release == nil || v.Release.Revision != 3 || v.ServerSideApply != owner.Yes {
		t.Fatalf("helm: %+v", v)
	}
	if v.Drift == nil || v.Drift.Field != "image" || v.Drift.Live != "registry.example.com/shop/orders:2.0.0" {
		t.Errorf("drift: %+v", v.Drift)
	}
	if lists.Load() != 1 || selectors[0] != "name=orders,owner=helm,status=deployed" {
		t.Errorf("want one LIST by owner=helm,name=orders,status=deployed: %d %v", lists.Load(), selectors)
	}
	// The live template changes (the rollback undone): drift is recomputed from the
	// cached release, with no request.
	fixed := dep.DeepCopy()
	fixed.Spec.Template.Spec.Containers[0].Image = "registry.example.com/shop/orders:2.1.0"
	if v := r.Read(ctx, d, OwnerTarget{Kind: ref.Deployment, Object: fixed, Template: &fixed.Spec.Template}); v.Drift != nil || lists.Load() != 1 {
		t.Errorf("no drift expected from the cache: %+v after %d LISTs", v.Drift, lists.Load())
	}

	// Listing Secrets refused (a viewer usually may not): no access.
	client.PrependReactor("list", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("viewer"))
	})
	clk.SetTime(clk.Now().Add(time.Minute))
	v = r.Read(ctx, d, target)
	if v.Access != owner.NoAccess || v.Summary() != "managed by Helm release shop/orders (release unknown: no access)" {
		t.Errorf("forbidden: %v %q", v.Access, v.Summary())
	}
}

func TestOwnerReaderHelmAbsent(t *testing.T) {
	r := NewOwnerReader(kubeapitest.FromClientset(fake.NewClientset(helmSecret(t, "secret-orders-v2-plain.json"))), OwnerReaderOptions{})
	dep := trackedDeployment(map[string]string{owner.HelmReleaseNameAnnotation: "orders"}, nil)
	v := r.Read(context.Background(), owner.Detect(ref.Deployment, dep, owner.Options{}), OwnerTarget{Kind: ref.Deployment, Object: dep})
	if v.Access != owner.Absent || v.Ref.Namespace != "shop" {
		t.Errorf("only a superseded release: %+v", v)
	}
}
