package owner

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Holding an owner is one small write on the owner object, recorded on it, that release
// undoes exactly:
//   - Argo CD: spec.syncPolicy.automated.enabled=false, the automated policy as it was
//     saved in annotation pyroll.dev/held-sync-policy; release puts that policy back
//     byte for byte and refuses when the policy changed since the hold (the
//     Application's resourceVersion cannot tell: Argo CD writes its status on every
//     reconcile).
//   - Flux: spec.suspend=true, what `flux suspend` writes, marked with annotation
//     pyroll.dev/held; release writes spec.suspend=false (`flux resume`), and refuses
//     when the object was not suspended by us or was resumed since.
//   - Helm: nothing to hold. Release drops the kubectl-pyroll field manager's entries
//     from the rollout object's managedFields, so the next (server-side) helm upgrade
//     takes back the fields we wrote instead of conflicting over them.
// Every patch is a JSON patch whose "test" operations make the API server refuse it
// (422) when the object moved under it; the caller re-reads and decides again.

const (
	// HeldSyncPolicyAnnotation, on an Argo CD Application, is the HoldRecord of our hold,
	// with the automated sync policy as it was.
	HeldSyncPolicyAnnotation = "pyroll.dev/held-sync-policy"
	// HeldAnnotation, on a Flux Kustomization or HelmRelease, is the HoldRecord of our hold.
	HeldAnnotation = "pyroll.dev/held"
	// FieldManager is kubectl-pyroll's field manager (actions.FieldManager).
	FieldManager = "kubectl-pyroll"
)

var (
	// ErrNothingToHold: the owner will not revert anything (auto-sync off, already
	// suspended by someone else, Helm).
	ErrNothingToHold = errors.New("nothing to hold")
	// ErrAlreadyHeld: our hold is already on the owner (holding again is a no-op).
	ErrAlreadyHeld = errors.New("already held by kubectl-pyroll")
	// ErrNotHeld: release found no hold of ours.
	ErrNotHeld = errors.New("not held by kubectl-pyroll")
	// ErrChanged: the owner changed since the hold; release refuses to overwrite it.
	ErrChanged = errors.New("changed since the hold")
)

// HoldRecord is what a hold leaves on the owner object (JSON in the annotation).
type HoldRecord struct {
	By      string    `json:"by,omitempty"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason,omitempty"`
	Rollout string    `json:"rollout,omitempty"` // the rollout the hold protects: "deployment/orders in shop"
	// Automated is an Application's spec.syncPolicy.automated before the hold, exactly.
	Automated json.RawMessage `json:"automated,omitempty"`
}

func heldRecord(annotation string) *HoldRecord {
	if annotation == "" {
		return nil
	}
	var rec HoldRecord
	if err := json.Unmarshal([]byte(annotation), &rec); err != nil {
		return &HoldRecord{} // held, by a record we cannot read: release will say so
	}
	return &rec
}

// Patch is one write on one object.
type Patch struct {
	Resource  schema.GroupVersionResource // the owner's resource ("" group apps for a rollout)
	Namespace string
	Name      string
	Type      types.PatchType
	Data      []byte
}

// op is one JSON patch (RFC 6902) operation.
type op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// testOp is a "test" whose value may be false or empty (omitempty would drop it).
type testOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}

func jsonPatch(res schema.GroupVersionResource, obj metav1.Object, ops []any) (Patch, error) {
	data, err := json.Marshal(ops)
	if err != nil {
		return Patch{}, err
	}
	return Patch{Resource: res, Namespace: obj.GetNamespace(), Name: obj.GetName(), Type: types.JSONPatchType, Data: data}, nil
}

// annotationOps adds annotation key=value, creating metadata.annotations if absent.
func annotationOps(obj metav1.Object, key, value string) []any {
	if obj.GetAnnotations() == nil {
		return []any{op{Op: "add", Path: "/metadata/annotations", Value: map[string]string{key: value}}}
	}
	return []any{op{Op: "add", Path: pointer("metadata", "annotations", key), Value: value}}
}

// HoldApplication is the patch that turns an Argo CD Application's auto-sync off and
// saves its automated policy in the hold record. ErrNothingToHold when auto-sync is
// already off; ErrAlreadyHeld when our hold is on it.
func HoldApplication(app *unstructured.Unstructured, rec HoldRecord) (Patch, error) {
	if _, held := app.GetAnnotations()[HeldSyncPolicyAnnotation]; held {
		return Patch{}, ErrAlreadyHeld
	}
	automated, found, err := unstructured.NestedFieldNoCopy(app.Object, "spec", "syncPolicy", "automated")
	if err != nil || !found || automated == nil {
		return Patch{}, fmt.Errorf("application %s: auto-sync is off: %w", app.GetName(), ErrNothingToHold)
	}
	policy, ok := automated.(map[string]any)
	if !ok {
		return Patch{}, fmt.Errorf("application %s: spec.syncPolicy.automated is not an object", app.GetName())
	}
	if enabled, set := policy["enabled"]; set && enabled == false {
		return Patch{}, fmt.Errorf("application %s: auto-sync is disabled: %w", app.GetName(), ErrNothingToHold)
	}
	saved, err := json.Marshal(policy)
	if err != nil {
		return Patch{}, err
	}
	rec.Automated = saved
	record, err := json.Marshal(rec)
	if err != nil {
		return Patch{}, err
	}
	ops := []any{
		testOp{Op: "test", Path: "/spec/syncPolicy/automated", Value: policy},
		op{Op: "add", Path: "/spec/syncPolicy/automated/enabled", Value: false},
	}
	ops = append(ops, annotationOps(app, HeldSyncPolicyAnnotation, string(record))...)
	return jsonPatch(ApplicationResource, app, ops)
}

// ReleaseApplication is the patch that puts back the automated policy a hold saved, as
// it was, and removes the hold record. ErrNotHeld without our record; ErrChanged when
// spec.syncPolicy.automated is no longer what the hold wrote (someone turned auto-sync
// back on, or edited the policy: theirs is kept).
func ReleaseApplication(app *unstructured.Unstructured) (Patch, error) {
	annotation, held := app.GetAnnotations()[HeldSyncPolicyAnnotation]
	if !held {
		return Patch{}, fmt.Errorf("application %s: %w", app.GetName(), ErrNotHeld)
	}
	rec := heldRecord(annotation)
	var before map[string]any
	if len(rec.Automated) == 0 || json.Unmarshal(rec.Automated, &before) != nil || before == nil {
		return Patch{}, fmt.Errorf("application %s: annotation %s holds no sync policy to restore", app.GetName(), HeldSyncPolicyAnnotation)
	}
	want := map[string]any{}
	for k, v := range before {
		want[k] = v
	}
	want["enabled"] = false
	live, found, _ := unstructured.NestedFieldNoCopy(app.Object, "spec", "syncPolicy", "automated")
	if !found || live == nil {
		return Patch{}, fmt.Errorf("application %s: spec.syncPolicy.automated was removed: %w", app.GetName(), ErrChanged)
	}
	if !sameJSON(live, want) {
		now, _ := json.Marshal(live)
		return Patch{}, fmt.Errorf("application %s: spec.syncPolicy.automated is now %s, the hold left %s: %w", app.GetName(), now, mustJSON(want), ErrChanged)
	}
	ops := []any{
		testOp{Op: "test", Path: "/spec/syncPolicy/automated", Value: live},
		testOp{Op: "test", Path: pointer("metadata", "annotations", HeldSyncPolicyAnnotation), Value: annotation},
		op{Op: "replace", Path: "/spec/syncPolicy/automated", Value: json.RawMessage(rec.Automated)},
		op{Op: "remove", Path: pointer("metadata", "annotations", HeldSyncPolicyAnnotation)},
	}
	return jsonPatch(ApplicationResource, app, ops)
}

// HoldFlux is the patch that suspends a Flux Kustomization or HelmRelease (spec.suspend:
// true, as `flux suspend` does) with our hold record. ErrNothingToHold when it is
// suspended already (by someone else: their suspension stays theirs); ErrAlreadyHeld
// when our hold is on it. The patch tests the resourceVersion read, so nobody's
// suspension made in between is taken for ours.
func HoldFlux(obj *unstructured.Unstructured, rec HoldRecord) (Patch, error) {
	res, err := fluxResource(obj)
	if err != nil {
		return Patch{}, err
	}
	if _, held := obj.GetAnnotations()[HeldAnnotation]; held {
		return Patch{}, ErrAlreadyHeld
	}
	if suspended, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend"); suspended {
		return Patch{}, fmt.Errorf("%s %s is suspended already: %w", obj.GetKind(), obj.GetName(), ErrNothingToHold)
	}
	rec.Automated = nil
	record, err := json.Marshal(rec)
	if err != nil {
		return Patch{}, err
	}
	ops := []any{
		testOp{Op: "test", Path: "/metadata/resourceVersion", Value: obj.GetResourceVersion()},
		op{Op: "add", Path: "/spec/suspend", Value: true},
	}
	ops = append(ops, annotationOps(obj, HeldAnnotation, string(record))...)
	return jsonPatch(res, obj, ops)
}

// ReleaseFlux is the patch that resumes what HoldFlux suspended (spec.suspend: false, as
// `flux resume` does) and removes the record. ErrNotHeld without our record; ErrChanged
// when it was resumed since (by someone else).
func ReleaseFlux(obj *unstructured.Unstructured) (Patch, error) {
	res, err := fluxResource(obj)
	if err != nil {
		return Patch{}, err
	}
	annotation, held := obj.GetAnnotations()[HeldAnnotation]
	if !held {
		return Patch{}, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), ErrNotHeld)
	}
	if suspended, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend"); !suspended {
		return Patch{}, fmt.Errorf("%s %s was resumed since the hold: %w", obj.GetKind(), obj.GetName(), ErrChanged)
	}
	ops := []any{
		testOp{Op: "test", Path: "/spec/suspend", Value: true},
		testOp{Op: "test", Path: pointer("metadata", "annotations", HeldAnnotation), Value: annotation},
		op{Op: "replace", Path: "/spec/suspend", Value: false},
		op{Op: "remove", Path: pointer("metadata", "annotations", HeldAnnotation)},
	}
	return jsonPatch(res, obj, ops)
}

func fluxResource(obj *unstructured.Unstructured) (schema.GroupVersionResource, error) {
	switch obj.GetKind() {
	case KindKustomization:
		return KustomizationResource, nil
	case KindHelmRelease:
		return HelmReleaseResource, nil
	}
	return schema.GroupVersionResource{}, fmt.Errorf("%s %s is not a Flux Kustomization or HelmRelease", obj.GetKind(), obj.GetName())
}

// ReleaseHelm is the patch, on the rollout object itself (res: its resource), that drops
// every managedFields entry of our field manager, so that Helm's next server-side
// upgrade owns again the fields we wrote (the fix belongs in the chart's values).
// ErrNotHeld when we own nothing on it. When every entry is ours it resets managedFields
// with [{}], the API's way to clear them (an empty list means "unchanged").
func ReleaseHelm(res schema.GroupVersionResource, obj metav1.Object) (Patch, error) {
	managed := obj.GetManagedFields()
	var ours []int
	for i, m := range managed {
		if m.Manager == FieldManager {
			ours = append(ours, i)
		}
	}
	if len(ours) == 0 {
		return Patch{}, fmt.Errorf("%s: %s owns no field of it: %w", obj.GetName(), FieldManager, ErrNotHeld)
	}
	var ops []any
	if len(ours) == len(managed) {
		ops = append(ops, testOp{Op: "test", Path: "/metadata/resourceVersion", Value: obj.GetResourceVersion()},
			op{Op: "replace", Path: "/metadata/managedFields", Value: []map[string]any{{}}})
		return jsonPatch(res, obj, ops)
	}
	// Highest index first: removing one shifts those after it.
	for j := len(ours) - 1; j >= 0; j-- {
		at := fmt.Sprint(ours[j])
		ops = append(ops,
			testOp{Op: "test", Path: pointer("metadata", "managedFields", at, "manager"), Value: FieldManager},
			op{Op: "remove", Path: pointer("metadata", "managedFields", at)})
	}
	return jsonPatch(res, obj, ops)
}

func sameJSON(a, b any) bool {
	var x, y any
	if json.Unmarshal(mustJSON(a), &x) != nil || json.Unmarshal(mustJSON(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}
