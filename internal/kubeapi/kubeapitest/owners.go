package kubeapitest

import (
	"context"
	"strconv"
	"sync"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// WithOwners serves api plus custom resources (Argo CD Applications, Flux Kustomizations
// and HelmReleases) from memory: GetCustom returns a copy, PatchCustom applies JSON and
// merge patches and bumps the resourceVersion. Refuse makes a request for one object fail
// (a Forbidden, say); Gets counts the GETs per object.
func WithOwners(api kubeapi.API, objects ...OwnerObject) *OwnersAPI {
	o := &OwnersAPI{API: api, objects: map[ObjectKey]*unstructured.Unstructured{}, refuse: map[ObjectKey]error{}, gets: map[ObjectKey]int{}}
	for _, obj := range objects {
		o.Put(obj.Resource, obj.Object)
	}
	return o
}

// OwnerObject is one custom resource WithOwners serves.
type OwnerObject struct {
	Resource schema.GroupVersionResource
	Object   *unstructured.Unstructured
}

// ObjectKey names one custom resource.
type ObjectKey struct {
	Resource        schema.GroupVersionResource
	Namespace, Name string
}

// OwnersAPI is an API whose cluster serves some custom resources.
type OwnersAPI struct {
	kubeapi.API
	mu      sync.Mutex
	objects map[ObjectKey]*unstructured.Unstructured
	refuse  map[ObjectKey]error
	gets    map[ObjectKey]int
	// changeBefore is how many of the next patches find the object changed by its
	// controller since it was read (ChangeBeforePatches).
	changeBefore int
}

// ChangeBeforePatches makes the next n patches find their object written since it was
// read (its resourceVersion moved on, as Flux's status writes move it), before they apply.
func (o *OwnersAPI) ChangeBeforePatches(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.changeBefore = n
}

// Put stores (or replaces) an object as the API server holds it.
func (o *OwnersAPI) Put(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[ObjectKey{gvr, obj.GetNamespace(), obj.GetName()}] = obj.DeepCopy()
}

// Refuse makes every request for that object fail with err (nil: answer again).
func (o *OwnersAPI) Refuse(gvr schema.GroupVersionResource, namespace, name string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refuse[ObjectKey{gvr, namespace, name}] = err
}

// Gets is how many GETs that object received.
func (o *OwnersAPI) Gets(gvr schema.GroupVersionResource, namespace, name string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.gets[ObjectKey{gvr, namespace, name}]
}

func (o *OwnersAPI) lookup(gvr schema.GroupVersionResource, namespace, name string) (ObjectKey, *unstructured.Unstructured, error) {
	k := ObjectKey{gvr, namespace, name}
	if err := o.refuse[k]; err != nil {
		return k, nil, err
	}
	obj, ok := o.objects[k]
	if !ok {
		return k, nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	return k, obj, nil
}

// GetCustom serves the stored object.
func (o *OwnersAPI) GetCustom(_ context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gets[ObjectKey{gvr, namespace, name}]++
	_, obj, err := o.lookup(gvr, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.DeepCopy(), nil
}

// PatchCustom applies a JSON patch or a merge patch to the stored object; a JSON patch
// whose test fails is refused with 422, as the API server refuses it.
func (o *OwnersAPI) PatchCustom(_ context.Context, gvr schema.GroupVersionResource, namespace, name string, pt types.PatchType, data []byte, _ metav1.PatchOptions) (*unstructured.Unstructured, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k, obj, err := o.lookup(gvr, namespace, name)
	if err != nil {
		return nil, err
	}
	if o.changeBefore > 0 {
		o.changeBefore--
		rv, _ := strconv.Atoi(obj.GetResourceVersion())
		obj.SetResourceVersion(strconv.Itoa(rv + 1))
	}
	doc, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var patched []byte
	switch pt {
	case types.JSONPatchType:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(data); err == nil {
			patched, err = p.Apply(doc)
		}
	case types.MergePatchType:
		patched, err = jsonpatch.MergePatch(doc, data)
	default:
		return nil, apierrors.NewBadRequest("unsupported patch type " + string(pt))
	}
	if err != nil {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: gvr.Group, Kind: obj.GetKind()}, name, nil)
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(patched); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	rv, _ := strconv.Atoi(obj.GetResourceVersion())
	out.SetResourceVersion(strconv.Itoa(rv + 1))
	o.objects[k] = out
	return out.DeepCopy(), nil
}
