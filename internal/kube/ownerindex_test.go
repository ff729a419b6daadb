package kube

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

func factsOf(name string, owner types.UID) *rollout.PodFacts {
	return &rollout.PodFacts{Namespace: "shop", Owner: owner, View: rollout.Pod{Name: name}}
}

func names(pods []*rollout.PodFacts) []string {
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		out = append(out, p.View.Name)
	}
	slices.Sort(out)
	return out
}

// The index follows what the informer hears: an add, a pod adopted by another ReplicaSet
// (its old group loses it), a delete the informer only learnt of by a relist (a tombstone),
// and a pod of nobody's (not indexed).
func TestOwnerIndexFollowsTheInformersChanges(t *testing.T) {
	idx := newPodIndex()
	changes := 0
	h := idx.handler(func() { changes++ })
	a, b, c := factsOf("a", "rs1"), factsOf("b", "rs1"), factsOf("c", "rs2")
	h.OnAdd(a, true)
	h.OnAdd(b, true)
	h.OnAdd(c, true)
	h.OnAdd(factsOf("orphan", ""), false)
	h.OnUpdate(b, factsOf("b", "rs2"))
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "shop/a", Obj: a})

	got := idx.grouped()
	if len(got) != 1 || !slices.Equal(names(got["rs2"]), []string{"b", "c"}) {
		t.Errorf("groups %v, want only rs2 with b and c", got)
	}
	if changes != 6 {
		t.Errorf("%d changes told, want 6 (one per event)", changes)
	}
}

// A snapshot's groups are shared with the next while unchanged, and never written after it
// took them: a change lists its group anew.
func TestOwnerIndexListsOnlyChangedGroupsAnew(t *testing.T) {
	idx := newPodIndex()
	h := idx.handler(func() {})
	h.OnAdd(factsOf("a", "rs1"), true)
	h.OnAdd(factsOf("c", "rs2"), true)
	first := idx.grouped()

	h.OnAdd(factsOf("d", "rs2"), false)
	second := idx.grouped()
	if &first["rs1"][0] != &second["rs1"][0] {
		t.Error("the unchanged group was listed anew")
	}
	if !slices.Equal(names(first["rs2"]), []string{"c"}) || !slices.Equal(names(second["rs2"]), []string{"c", "d"}) {
		t.Errorf("rs2 after an add: first %v, second %v; want [c], then [c d]", names(first["rs2"]), names(second["rs2"]))
	}

	h.OnUpdate(factsOf("d", "rs2"), factsOf("d", "rs1"))
	third := idx.grouped()
	if !slices.Equal(names(second["rs2"]), []string{"c", "d"}) || !slices.Equal(names(third["rs2"]), []string{"c"}) || !slices.Equal(names(third["rs1"]), []string{"a", "d"}) {
		t.Errorf("after d moved to rs1: second's rs2 %v, third's rs2 %v and rs1 %v; want [c d], [c], [a d]", names(second["rs2"]), names(third["rs2"]), names(third["rs1"]))
	}
}

// Through a watcher: a pod deleted, and one moved to another ReplicaSet of the same
// Deployment, leave their old revision in the next snapshots.
func TestWatcherFollowsPodsLeavingTheirReplicaSet(t *testing.T) {
	d, rs := testDeployment()
	rs2 := rs.DeepCopy()
	rs2.Name, rs2.UID = "api-def", "rs2"
	client := fake.NewClientset(d, rs, rs2, testPod(0), testPod(1), testPod(2))
	cluster := &Cluster{Client: kubeapitest.FromClientset(client), Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := NewWatcher(cluster, WatchOptions{Namespace: "shop"}).Run(ctx)
	podsOf := func(s rollout.Snapshot, replicaSet string) int {
		for _, rev := range s.Rollouts[0].Revisions {
			if rev.ReplicaSet == replicaSet {
				return len(rev.Pods)
			}
		}
		return -1
	}
	nextSynced(t, snaps, func(s rollout.Snapshot) bool { return podsOf(s, "api-abc") == 3 })

	if err := client.CoreV1().Pods("shop").Delete(ctx, "api-abc-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	moved := testPod(1)
	moved.OwnerReferences[0].Name, moved.OwnerReferences[0].UID = "api-def", "rs2"
	if _, err := client.CoreV1().Pods("shop").Update(ctx, moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	nextSynced(t, snaps, func(s rollout.Snapshot) bool { return podsOf(s, "api-abc") == 1 && podsOf(s, "api-def") == 1 })
}

// The events of the Deployment and of its ReplicaSet reach its rollout from the index.
func TestWatcherGroupsEventsByObject(t *testing.T) {
	d, rs := testDeployment()
	event := func(name string, kind string, uid types.UID, reason string) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"}, Reason: reason, Type: corev1.EventTypeNormal,
			InvolvedObject: corev1.ObjectReference{Kind: kind, Name: "api", UID: uid}}
	}
	client := fake.NewClientset(d, rs, testPod(0), testPod(1), event("e1", "Deployment", "d1", "ScalingReplicaSet"), event("e2", "ReplicaSet", "rs1", "SuccessfulCreate"), event("e3", "Deployment", "other", "Elsewhere"))
	cluster := &Cluster{Client: kubeapitest.FromClientset(client), Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := NewWatcher(cluster, WatchOptions{Namespace: "shop"}).Run(ctx)
	nextSynced(t, snaps, func(s rollout.Snapshot) bool {
		var reasons []string
		for _, e := range s.Rollouts[0].Events {
			reasons = append(reasons, e.Reason.String())
		}
		slices.Sort(reasons)
		return slices.Equal(reasons, []string{"ScalingReplicaSet", "SuccessfulCreate"})
	})
}
