package owner

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

var holdAt = time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)

// apply applies p to u as the API server would (JSON patch), or fails the test.
func apply(t *testing.T, u *unstructured.Unstructured, p Patch) *unstructured.Unstructured {
	t.Helper()
	out, err := tryApply(u, p)
	if err != nil {
		t.Fatalf("applying %s: %v", p.Data, err)
	}
	return out
}

func tryApply(u *unstructured.Unstructured, p Patch) (*unstructured.Unstructured, error) {
	if p.Type != types.JSONPatchType {
		return nil, errors.New("not a JSON patch: " + string(p.Type))
	}
	doc, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	decoded, err := jsonpatch.DecodePatch(p.Data)
	if err != nil {
		return nil, err
	}
	patched, err := decoded.Apply(doc)
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{}
	return out, out.UnmarshalJSON(patched)
}

func automated(u *unstructured.Unstructured) any {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "syncPolicy", "automated")
	return v
}

func TestArgoCDHoldAndReleaseRestoreExactly(t *testing.T) {
	policies := map[string]map[string]any{
		"self-heal and prune": {"prune": true, "selfHeal": true},
		"enabled set true":    {"enabled": true, "selfHeal": true, "allowEmpty": false},
		"empty automated":     {},
	}
	for name, policy := range policies {
		t.Run(name, func(t *testing.T) {
			app := application(t, set(t, policy, "spec", "syncPolicy", "automated"))
			app.SetAnnotations(nil) // the hold must create metadata.annotations
			before := app.DeepCopy()

			p, err := HoldApplication(app, HoldRecord{By: "alice", At: holdAt, Reason: "bad build", Rollout: "deployment/orders in shop"})
			if err != nil {
				t.Fatal(err)
			}
			if p.Resource != ApplicationResource || p.Namespace != "argocd" || p.Name != "shop-orders" {
				t.Errorf("patch target %v %s/%s", p.Resource, p.Namespace, p.Name)
			}
			held := apply(t, app, p)
			v := FromApplication(argoDetection(t), held)
			if v.AutoSync != No || v.Held == nil || v.Held.By != "alice" || !v.Held.At.Equal(holdAt) {
				t.Fatalf("after the hold: auto-sync %v, held %+v", v.AutoSync, v.Held)
			}
			if _, err := HoldApplication(held, HoldRecord{}); !errors.Is(err, ErrAlreadyHeld) {
				t.Errorf("holding again: %v, want ErrAlreadyHeld", err)
			}

			// Argo CD writes status meanwhile: no reason to refuse.
			set(t, "OutOfSync", "status", "sync", "status")(held)
			held.SetResourceVersion("902200")
			r, err := ReleaseApplication(held)
			if err != nil {
				t.Fatal(err)
			}
			released := apply(t, held, r)
			if !reflect.DeepEqual(automated(released), automated(before)) {
				t.Errorf("restored %v, want exactly %v", automated(released), automated(before))
			}
			if released.GetAnnotations()[HeldSyncPolicyAnnotation] != "" {
				t.Errorf("hold record left: %v", released.GetAnnotations())
			}
			if _, err := ReleaseApplication(released); !errors.Is(err, ErrNotHeld) {
				t.Errorf("releasing again: %v, want ErrNotHeld", err)
			}
		})
	}
}

func TestArgoCDReleaseRefusesWhenChanged(t *testing.T) {
	held := func() *unstructured.Unstructured {
		app := application(t, nil)
		p, err := HoldApplication(app, HoldRecord{By: "alice", At: holdAt})
		if err != nil {
			t.Fatal(err)
		}
		return apply(t, app, p)
	}
	cases := map[string]func(*unstructured.Unstructured){
		"auto-sync turned back on":    set(t, true, "spec", "syncPolicy", "automated", "enabled"),
		"enabled removed":             set(t, nil, "spec", "syncPolicy", "automated", "enabled"),
		"self-heal turned off":        set(t, false, "spec", "syncPolicy", "automated", "selfHeal"),
		"a field added to the policy": set(t, true, "spec", "syncPolicy", "automated", "allowEmpty"),
		"automated removed":           set(t, nil, "spec", "syncPolicy", "automated"),
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			app := held()
			change(app)
			if p, err := ReleaseApplication(app); !errors.Is(err, ErrChanged) {
				t.Errorf("ReleaseApplication = %s, %v; want ErrChanged", p.Data, err)
			}
		})
		// The same change made between our read and our write: the API server refuses
		// the patch (its test operations).
		t.Run(name+" under the patch", func(t *testing.T) {
			app := held()
			p, err := ReleaseApplication(app)
			if err != nil {
				t.Fatal(err)
			}
			change(app)
			if _, err := tryApply(app, p); err == nil {
				t.Errorf("the release patch applied over a changed policy")
			}
		})
	}
}

func TestArgoCDHoldRefuses(t *testing.T) {
	for name, edit := range map[string]func(*unstructured.Unstructured){
		"no automated policy": set(t, nil, "spec", "syncPolicy", "automated"),
		"no sync policy":      set(t, nil, "spec", "syncPolicy"),
		"auto-sync disabled":  set(t, false, "spec", "syncPolicy", "automated", "enabled"),
	} {
		if _, err := HoldApplication(application(t, edit), HoldRecord{}); !errors.Is(err, ErrNothingToHold) {
			t.Errorf("%s: %v, want ErrNothingToHold", name, err)
		}
	}
	// The policy changed between the read and the hold: the server refuses the patch.
	app := application(t, nil)
	p, err := HoldApplication(app, HoldRecord{})
	if err != nil {
		t.Fatal(err)
	}
	set(t, false, "spec", "syncPolicy", "automated", "selfHeal")(app)
	if _, err := tryApply(app, p); err == nil {
		t.Errorf("the hold applied over a policy that changed after it was read")
	}
	// A record that is not ours to read is not restored.
	bad := application(t, set(t, false, "spec", "syncPolicy", "automated", "enabled"))
	bad.SetAnnotations(map[string]string{HeldSyncPolicyAnnotation: "yes"})
	if _, err := ReleaseApplication(bad); err == nil {
		t.Errorf("released from an unreadable record")
	}
}

func TestFluxHoldAndRelease(t *testing.T) {
	for _, fixture := range []string{"flux/kustomization.yaml", "flux/helmrelease.yaml"} {
		t.Run(fixture, func(t *testing.T) {
			obj := object(t, fixture)
			p, err := HoldFlux(obj, HoldRecord{By: "alice", At: holdAt, Rollout: "deployment/payments in shop"})
			if err != nil {
				t.Fatal(err)
			}
			if want := obj.GetName(); p.Name != want || p.Namespace != obj.GetNamespace() || p.Resource.Resource == "" {
				t.Errorf("patch target %v %s/%s", p.Resource, p.Namespace, p.Name)
			}
			held := apply(t, obj, p)
			v := FromFlux(fluxDetection(t), held)
			if v.Suspended != Yes || v.Held == nil || v.Held.Rollout != "deployment/payments in shop" {
				t.Fatalf("after the hold: suspended %v held %+v", v.Suspended, v.Held)
			}
			if _, err := HoldFlux(held, HoldRecord{}); !errors.Is(err, ErrAlreadyHeld) {
				t.Errorf("holding again: %v", err)
			}
			r, err := ReleaseFlux(held)
			if err != nil {
				t.Fatal(err)
			}
			released := apply(t, held, r)
			if s, found, _ := unstructured.NestedBool(released.Object, "spec", "suspend"); !found || s {
				t.Errorf("spec.suspend after release: %v (found %v), want false", s, found)
			}
			if _, held := released.GetAnnotations()[HeldAnnotation]; held {
				t.Errorf("hold record left")
			}
		})
	}
}

func TestFluxHoldAndReleaseRefuse(t *testing.T) {
	suspended := object(t, "flux/kustomization.yaml")
	set(t, true, "spec", "suspend")(suspended)
	if _, err := HoldFlux(suspended, HoldRecord{}); !errors.Is(err, ErrNothingToHold) {
		t.Errorf("suspended by someone: %v, want ErrNothingToHold", err)
	}
	if _, err := ReleaseFlux(suspended); !errors.Is(err, ErrNotHeld) {
		t.Errorf("releasing someone's suspension: %v, want ErrNotHeld", err)
	}

	obj := object(t, "flux/kustomization.yaml")
	p, err := HoldFlux(obj, HoldRecord{At: holdAt})
	if err != nil {
		t.Fatal(err)
	}
	held := apply(t, obj, p)
	resumed := held.DeepCopy()
	set(t, false, "spec", "suspend")(resumed)
	if _, err := ReleaseFlux(resumed); !errors.Is(err, ErrChanged) {
		t.Errorf("resumed since the hold: %v, want ErrChanged", err)
	}
	// Someone suspends between our read and our hold: the resourceVersion test refuses.
	moved := obj.DeepCopy()
	moved.SetResourceVersion("77150")
	set(t, true, "spec", "suspend")(moved)
	if _, err := tryApply(moved, p); err == nil {
		t.Errorf("the hold applied over an object that moved")
	}
	// Someone resumes between our read and our release: the test on spec.suspend refuses.
	r, err := ReleaseFlux(held)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tryApply(resumed, r); err == nil {
		t.Errorf("the release applied over an object resumed meanwhile")
	}
	if _, err := HoldFlux(application(t, nil), HoldRecord{}); err == nil {
		t.Errorf("held an Application as a Flux object")
	}
}

func TestReleaseHelmDropsOurManagedFields(t *testing.T) {
	dep := deployment(t, "helm/deployment-orders-rolledback.yaml")
	obj := func() *unstructured.Unstructured {
		m, err := runtimeToUnstructured(dep)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	managers := func(u *unstructured.Unstructured) []string {
		var out []string
		for _, m := range u.GetManagedFields() {
			out = append(out, m.Manager+"/"+string(m.Operation))
		}
		return out
	}
	u := obj()
	u.SetManagedFields(append(u.GetManagedFields(), metav1.ManagedFieldsEntry{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale"}))
	p, err := ReleaseHelm(deploymentsResource, u)
	if err != nil {
		t.Fatal(err)
	}
	got := managers(apply(t, u, p))
	if want := []string{"helm/Apply", "kube-controller-manager/Update"}; !reflect.DeepEqual(got, want) {
		t.Errorf("managers after release: %v, want %v", got, want)
	}
	// The entries moved between the read and the write: the test operations refuse.
	moved := obj()
	fields := moved.GetManagedFields()
	fields[0], fields[1] = fields[1], fields[0]
	moved.SetManagedFields(fields)
	if _, err := tryApply(moved, p); err == nil {
		t.Errorf("removed entries that moved")
	}

	only := obj()
	only.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate}})
	p, err = ReleaseHelm(deploymentsResource, only)
	if err != nil {
		t.Fatal(err)
	}
	var ops []map[string]any
	if err := json.Unmarshal(p.Data, &ops); err != nil {
		t.Fatal(err)
	}
	if last := ops[len(ops)-1]; last["op"] != "replace" || !reflect.DeepEqual(last["value"], []any{map[string]any{}}) {
		t.Errorf("all ours: want managedFields reset to [{}], got %s", p.Data)
	}

	none := obj()
	none.SetManagedFields(none.GetManagedFields()[:1])
	if _, err := ReleaseHelm(deploymentsResource, none); !errors.Is(err, ErrNotHeld) {
		t.Errorf("nothing of ours: %v, want ErrNotHeld", err)
	}
}
