package kube

import (
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// ownerIndex keeps a cache's objects grouped by the UID of what they belong to (a pod by
// its ReplicaSet, an event by the object it is about), changed as the informer's handler
// hears them. A snapshot takes the groups as they are and regroups only those that changed
// since the previous one: grouping every pod again on every snapshot (hashing each one's
// owner UID) was a third of a rebuild at 10,000 pods under churn.
type ownerIndex[T any] struct {
	ownerOf func(T) types.UID // "" for an object of nobody's: not indexed
	keyOf   func(T) string    // unique within one owner's group

	mu     sync.Mutex
	groups map[types.UID]*ownerGroup[T]
}

type ownerGroup[T any] struct {
	// members are the group's objects, found by key with a scan: a ReplicaSet's pods are
	// tens, and a map per group held some 40 bytes a pod where a slice holds 8.
	members []T
	// listed is the members as the last snapshot took them; nil once they changed. A
	// snapshot's slice is never written again (later snapshots share it): a change makes a
	// new one.
	listed []T
}

func newOwnerIndex[T any](ownerOf func(T) types.UID, keyOf func(T) string) *ownerIndex[T] {
	return &ownerIndex[T]{ownerOf: ownerOf, keyOf: keyOf, groups: map[types.UID]*ownerGroup[T]{}}
}

func (x *ownerIndex[T]) find(g *ownerGroup[T], key string) int {
	for i, m := range g.members {
		if x.keyOf(m) == key {
			return i
		}
	}
	return -1
}

func (x *ownerIndex[T]) put(obj T) {
	owner := x.ownerOf(obj)
	if owner == "" {
		return
	}
	g := x.groups[owner]
	if g == nil {
		g = &ownerGroup[T]{}
		x.groups[owner] = g
	}
	if i := x.find(g, x.keyOf(obj)); i >= 0 {
		g.members[i] = obj
	} else {
		g.members = append(g.members, obj)
	}
	g.listed = nil
}

func (x *ownerIndex[T]) drop(obj T) {
	owner := x.ownerOf(obj)
	g := x.groups[owner]
	if g == nil {
		return
	}
	i := x.find(g, x.keyOf(obj))
	if i < 0 {
		return
	}
	last := len(g.members) - 1
	g.members[i] = g.members[last]
	var zero T
	g.members[last] = zero // no reference left behind in the spare capacity
	g.members = g.members[:last]
	g.listed = nil
	if len(g.members) == 0 {
		delete(x.groups, owner)
	}
}

// handler keeps the index as the informer's objects change, then calls changed (after: a
// snapshot that change causes finds it in the index).
func (x *ownerIndex[T]) handler(changed func()) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if o, ok := obj.(T); ok {
				x.mu.Lock()
				x.put(o)
				x.mu.Unlock()
			}
			changed()
		},
		UpdateFunc: func(oldObj, newObj any) {
			x.mu.Lock()
			if o, ok := oldObj.(T); ok {
				x.drop(o) // its owner may have changed (a pod adopted or released)
			}
			if o, ok := newObj.(T); ok {
				x.put(o)
			}
			x.mu.Unlock()
			changed()
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if o, ok := obj.(T); ok {
				x.mu.Lock()
				x.drop(o)
				x.mu.Unlock()
			}
			changed()
		},
	}
}

// grouped is every group's members, listed anew only for groups changed since the last
// call. The slices are shared with other snapshots: read only.
func (x *ownerIndex[T]) grouped() map[types.UID][]T {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[types.UID][]T, len(x.groups))
	for owner, g := range x.groups {
		if g.listed == nil {
			g.listed = slices.Clone(g.members)
		}
		out[owner] = g.listed
	}
	return out
}

// newPodIndex groups pods by their controlling ReplicaSet.
func newPodIndex() *ownerIndex[*rollout.PodFacts] {
	return newOwnerIndex(func(p *rollout.PodFacts) types.UID { return p.Owner }, func(p *rollout.PodFacts) string { return p.View.Name })
}

// newEventIndex groups events by the object they are about.
func newEventIndex() *ownerIndex[*corev1.Event] {
	return newOwnerIndex(func(e *corev1.Event) types.UID { return e.InvolvedObject.UID }, func(e *corev1.Event) string { return e.Name })
}
