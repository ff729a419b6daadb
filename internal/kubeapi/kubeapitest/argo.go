package kubeapitest

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clienttesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// WithArgo serves api plus Argo Rollouts' Rollouts and AnalysisRuns from an object tracker
// holding objects, as client-go's fake clientsets serve theirs. Fake is the tracker's
// client: add reactors to it to refuse or observe requests.
func WithArgo(api kubeapi.API, objects ...runtime.Object) *ArgoAPI {
	scheme := runtime.NewScheme()
	scheme.AddKnownTypes(argo.GroupVersion, &argo.Rollout{}, &argo.RolloutList{}, &argo.AnalysisRun{}, &argo.AnalysisRunList{})
	metav1.AddToGroupVersion(scheme, argo.GroupVersion)
	tracker := clienttesting.NewObjectTracker(scheme, serializer.NewCodecFactory(scheme).UniversalDecoder())
	for _, obj := range objects {
		if err := tracker.Add(obj); err != nil {
			panic(fmt.Sprintf("kubeapitest: adding %T: %v", obj, err))
		}
	}
	fake := &clienttesting.Fake{}
	fake.AddReactor("*", "*", clienttesting.ObjectReaction(tracker))
	fake.AddWatchReactor("*", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w, err := tracker.Watch(action.GetResource(), action.GetNamespace())
		return true, w, err
	})
	return &ArgoAPI{API: api, Fake: fake}
}

// ArgoAPI is an API whose cluster serves Argo Rollouts.
type ArgoAPI struct {
	kubeapi.API
	Fake *clienttesting.Fake
}

// Rollouts serves Rollouts from the tracker.
func (a *ArgoAPI) Rollouts(ns string) kubeapi.Resource[*argo.Rollout, *argo.RolloutList] {
	return trackedResource[*argo.Rollout, *argo.RolloutList]{
		fake: a.Fake, ns: ns, gvr: argo.GroupVersion.WithResource("rollouts"), kind: argo.GroupVersion.WithKind("Rollout"),
		newObject: func() *argo.Rollout { return &argo.Rollout{} },
		filter: func(l *argo.RolloutList, s labels.Selector) {
			l.Items = keep(l.Items, func(r argo.Rollout) bool { return s.Matches(labels.Set(r.Labels)) })
		},
	}
}

// AnalysisRuns serves AnalysisRuns from the tracker.
func (a *ArgoAPI) AnalysisRuns(ns string) kubeapi.Resource[*argo.AnalysisRun, *argo.AnalysisRunList] {
	return trackedResource[*argo.AnalysisRun, *argo.AnalysisRunList]{
		fake: a.Fake, ns: ns, gvr: argo.GroupVersion.WithResource("analysisruns"), kind: argo.GroupVersion.WithKind("AnalysisRun"),
		newObject: func() *argo.AnalysisRun { return &argo.AnalysisRun{} },
		filter: func(l *argo.AnalysisRunList, s labels.Selector) {
			l.Items = keep(l.Items, func(r argo.AnalysisRun) bool { return s.Matches(labels.Set(r.Labels)) })
		},
	}
}

// ServesArgoRollouts: this cluster does.
func (a *ArgoAPI) ServesArgoRollouts(context.Context) (bool, error) { return true, nil }

func keep[T any](items []T, ok func(T) bool) []T {
	out := items[:0]
	for _, it := range items {
		if ok(it) {
			out = append(out, it)
		}
	}
	return out
}

type trackedResource[T runtime.Object, L runtime.Object] struct {
	fake      *clienttesting.Fake
	ns        string
	gvr       schema.GroupVersionResource
	kind      schema.GroupVersionKind
	newObject func() T
	filter    func(L, labels.Selector)
}

func (r trackedResource[T, L]) object(obj runtime.Object, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if obj == nil {
		return zero, apierrors.NewNotFound(r.gvr.GroupResource(), "")
	}
	return obj.(T), nil
}

func (r trackedResource[T, L]) Get(_ context.Context, name string, opts metav1.GetOptions) (T, error) {
	return r.object(r.fake.Invokes(clienttesting.NewGetActionWithOptions(r.gvr, r.ns, name, opts), r.newObject()))
}

func (r trackedResource[T, L]) List(_ context.Context, opts metav1.ListOptions) (L, error) {
	var zero L
	obj, err := r.fake.Invokes(clienttesting.NewListActionWithOptions(r.gvr, r.kind, r.ns, opts), nil)
	if err != nil {
		return zero, err
	}
	list := obj.(L)
	selector, err := labels.Parse(opts.LabelSelector)
	if err != nil {
		return zero, apierrors.NewBadRequest(err.Error())
	}
	r.filter(list, selector)
	return list, nil
}

func (r trackedResource[T, L]) Watch(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return r.fake.InvokesWatch(clienttesting.NewWatchActionWithOptions(r.gvr, r.ns, opts))
}

func (r trackedResource[T, L]) Create(_ context.Context, obj T, opts metav1.CreateOptions) (T, error) {
	return r.object(r.fake.Invokes(clienttesting.NewCreateActionWithOptions(r.gvr, r.ns, obj, opts), r.newObject()))
}

func (r trackedResource[T, L]) Update(_ context.Context, obj T, opts metav1.UpdateOptions) (T, error) {
	return r.object(r.fake.Invokes(clienttesting.NewUpdateActionWithOptions(r.gvr, r.ns, obj, opts), r.newObject()))
}

func (r trackedResource[T, L]) Patch(_ context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error) {
	return r.object(r.fake.Invokes(clienttesting.NewPatchSubresourceActionWithOptions(r.gvr, r.ns, name, pt, data, opts, subresources...), r.newObject()))
}
