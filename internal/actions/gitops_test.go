package actions

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
)

// fluxFixture is fixture's api applied by the Flux Kustomization flux-system/apps (every
// 20 s, not suspended).
func fluxFixture(t *testing.T) (*fake.Clientset, *kubeapitest.OwnersAPI, *Driver) {
	t.Helper()
	client, dep := fixture(false)
	dep.Labels = map[string]string{owner.FluxKustomizeNameLabel: "apps", owner.FluxKustomizeNSLabel: "flux-system"}
	if err := client.Tracker().Update(appsv1.SchemeGroupVersion.WithResource("deployments"), dep, "shop"); err != nil {
		t.Fatal(err)
	}
	kustomization := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system", "resourceVersion": "7"},
		"spec":     map[string]any{"interval": "20s", "path": "./apps", "prune": true},
		"status":   map[string]any{"lastAppliedRevision": "main@sha1:8b1d0c2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c"},
	}}
	api := kubeapitest.WithOwners(kubeapitest.FromClientset(client), kubeapitest.OwnerObject{Resource: owner.KustomizationResource, Object: kustomization})
	d := driver(client)
	d.Client = api
	d.Owners = kube.NewOwnerReader(api, kube.OwnerReaderOptions{MaxAge: -1})
	return client, api, d
}

func suspended(t *testing.T, api *kubeapitest.OwnersAPI) bool {
	t.Helper()
	obj, err := api.GetCustom(context.Background(), owner.KustomizationResource, "flux-system", "apps")
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend")
	return s
}

func TestPlanSaysTheOwnerWillUndoTheRollback(t *testing.T) {
	_, _, d := fluxFixture(t)
	plan, err := d.Plan(context.Background(), intent.Request{Action: intent.Rollback, Target: apiRef})
	if err != nil {
		t.Fatal(err)
	}
	want := "Flux Kustomization flux-system/apps will put ghcr.io/acme/api:1.1 back within 20s"
	if !plan.Owner.Undone() || !plan.Owner.Holdable || plan.Owner.Text.String() != want || plan.Owner.HoldWords != "suspend it" {
		t.Errorf("plan.Owner = %+v, want it undone, holdable, %q", plan.Owner, want)
	}
}

func TestHoldAndRollbackIsOneAction(t *testing.T) {
	client, api, d := fluxFixture(t)
	plan, err := d.Plan(context.Background(), intent.Request{Action: intent.Rollback, Target: apiRef, Reason: "5xx", HoldOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	result, err := d.Apply(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if !suspended(t, api) {
		t.Error("the Kustomization was not suspended")
	}
	if result.Held != "Flux Kustomization flux-system/apps" {
		t.Errorf("result.Held = %q", result.Held)
	}
	if got := get(t, client).Annotations[intent.LastActionAnnotation]; !strings.Contains(got, `"held":"Flux Kustomization flux-system/apps"`) {
		t.Errorf("the audit record does not name the hold: %s", got)
	}
	events, _ := client.CoreV1().Events("").List(context.Background(), metaList())
	var onOwner, onRollout bool
	for _, e := range events.Items {
		onOwner = onOwner || (e.InvolvedObject.Kind == "Kustomization" && e.Reason == "PyrollHold")
		onRollout = onRollout || (e.InvolvedObject.Kind == "Deployment" && e.Reason == "PyrollRollback" && strings.Contains(e.Message, "held first"))
	}
	if !onOwner || !onRollout {
		t.Errorf("Events on the Kustomization (%t) and on the Deployment naming the hold (%t): %+v", onOwner, onRollout, events.Items)
	}

	// release-hold resumes it, and says nothing is held a second time.
	released, err := d.ReleaseHold(context.Background(), apiRef, "2.0.1 merged")
	if err != nil {
		t.Fatal(err)
	}
	if suspended(t, api) || !strings.Contains(released.String(), "resumed") {
		t.Errorf("release-hold: suspended=%t, %q", suspended(t, api), released)
	}
	if _, err := d.ReleaseHold(context.Background(), apiRef, ""); !errors.Is(err, ErrNothingHeld) {
		t.Errorf("a second release-hold: %v, want ErrNothingHeld", err)
	}
}

func TestFailedRollbackUndoesItsHold(t *testing.T) {
	client, api, d := fluxFixture(t)
	client.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "api", errors.New("denied by a webhook"))
	})
	plan, err := d.Plan(context.Background(), intent.Request{Action: intent.Rollback, Target: apiRef, HoldOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(context.Background(), plan); err == nil {
		t.Fatal("the refused rollback succeeded")
	}
	if suspended(t, api) {
		t.Error("the rollback failed but the Kustomization stays suspended: a failed action changed the cluster")
	}
}

func TestHoldRefusedWritesNothing(t *testing.T) {
	client, api, d := fluxFixture(t)
	api.Refuse(owner.KustomizationResource, "flux-system", "apps", apierrors.NewForbidden(schema.GroupResource{Group: "kustomize.toolkit.fluxcd.io", Resource: "kustomizations"}, "apps", errors.New("no")))
	plan, err := d.Plan(context.Background(), intent.Request{Action: intent.Rollback, Target: apiRef, HoldOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(context.Background(), plan); err == nil || !strings.Contains(err.Error(), "hold Flux Kustomization flux-system/apps") {
		t.Fatalf("Apply: %v, want the hold's refusal", err)
	}
	if got := get(t, client).Spec.Template.Spec.Containers[0].Image; got != "ghcr.io/acme/api:1.1" {
		t.Errorf("the rollback was written (%s) although its hold was refused", got)
	}
}

func metaList() metav1.ListOptions { return metav1.ListOptions{} }

// Flux writes its Kustomization's status at every reconcile: a hold that finds it changed
// since it was read reads it again and holds (seen on the real Flux: "it changed while
// being held"); one that keeps finding it changed gives up with nothing written.
func TestHoldRetriesWhenTheOwnerChangedMeanwhile(t *testing.T) {
	client, api, d := fluxFixture(t)
	plan, err := d.Plan(context.Background(), intent.Request{Action: intent.Rollback, Target: apiRef, HoldOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	api.ChangeBeforePatches(1)
	if _, err := d.Apply(context.Background(), plan); err != nil {
		t.Fatalf("a hold that met one status write: %v", err)
	}
	if !suspended(t, api) || get(t, client).Spec.Template.Spec.Containers[0].Image == "ghcr.io/acme/api:1.1" {
		t.Errorf("suspended %t, image %s: want held and rolled back", suspended(t, api), get(t, client).Spec.Template.Spec.Containers[0].Image)
	}

	// release-hold meets a status write too, and still resumes it.
	api.ChangeBeforePatches(1)
	if _, err := d.ReleaseHold(context.Background(), apiRef, ""); err != nil || suspended(t, api) {
		t.Errorf("release-hold that met one status write: %v, suspended %t", err, suspended(t, api))
	}

	client, api, d = fluxFixture(t)
	before := get(t, client)
	api.ChangeBeforePatches(100)
	if _, err := d.Apply(context.Background(), plan); err == nil || !strings.Contains(err.Error(), "kept changing while being held") {
		t.Fatalf("a hold that always meets a write: %v", err)
	}
	if suspended(t, api) || get(t, client).ResourceVersion != before.ResourceVersion {
		t.Error("a failed hold wrote something")
	}
}
