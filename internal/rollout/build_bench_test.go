package rollout_test

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// DESIGN.md §9: a snapshot of 5,000 pods (200 Deployments) built in under 5 ms. The
// watcher builds from its cache, which holds each pod read once (rollout.PodFacts).
func BenchmarkBuild200Deployments5000Pods(b *testing.B) {
	benchmarkBuild(b, rollouttest.Cached(rollouttest.Synthetic(200, 25)))
}

// The same from API objects, every pod read on the way: what `history` and a snapshot
// from a fresh LIST cost.
func BenchmarkBuild200Deployments5000PodsFromAPIObjects(b *testing.B) {
	benchmarkBuild(b, rollouttest.Synthetic(200, 25))
}

func benchmarkBuild(b *testing.B, objs rollout.Objects) {
	now := rollouttest.Epoch.Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rollouts := rollout.Build(objs, now); len(rollouts) != len(objs.Deployments) {
			b.Fatalf("%d rollouts", len(rollouts))
		}
	}
}

func TestSyntheticObjectsBuildAsExpected(t *testing.T) {
	rollouts := rollout.Build(rollouttest.Synthetic(20, 5), rollouttest.Epoch.Add(time.Hour))
	degraded := 0
	for _, r := range rollouts {
		if r.Phase == rollout.PhaseDegraded {
			degraded++
		}
		if r.CanaryRevision != 2 || r.StableRevision != 1 {
			t.Errorf("%s: revisions %d->%d, want 1->2", r.Name, r.StableRevision, r.CanaryRevision)
		}
	}
	if degraded != 2 || rollouts[0].Phase != rollout.PhaseDegraded {
		t.Errorf("%d Degraded (first: %s), want 2 sorted first", degraded, rollouts[0].Phase)
	}
}

// A Builder rebuilds the snapshot after one pod changed (read once, by the cache), reusing
// the provenance of the revisions that did not change; the pods in one list.
func BenchmarkRebuild200Deployments5000PodsOnePodChanged(b *testing.B) {
	benchmarkRebuildOnePodChanged(b, false)
}

// The same as the watcher feeds it: the pods grouped by ReplicaSet already, and only the
// changed pod's group listed anew (kube's ownerIndex).
func BenchmarkRebuild200Deployments5000PodsOnePodChangedFromIndex(b *testing.B) {
	benchmarkRebuildOnePodChanged(b, true)
}

func benchmarkRebuildOnePodChanged(b *testing.B, fromIndex bool) {
	api := rollouttest.Synthetic(200, 25)
	objs := rollouttest.Cached(api)
	groups := rollouttest.GroupByOwner(objs.PodFacts)
	if fromIndex {
		objs.PodFacts, objs.PodsByOwner = nil, groups
	}
	now := rollouttest.Epoch.Add(time.Hour)
	builder := rollout.NewBuilder()
	builder.Build(objs, now)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		changed := api.Pods[i%len(api.Pods)].DeepCopy()
		changed.ResourceVersion = fmt.Sprint(i)
		if facts := rollout.FactsOf(changed); fromIndex {
			groups.Replace(facts)
		} else {
			objs.PodFacts[i%len(api.Pods)] = facts
		}
		i++
		if rollouts := builder.Build(objs, now); len(rollouts) != 200 {
			b.Fatalf("%d rollouts", len(rollouts))
		}
	}
}

// A Builder gives the same snapshot as a fresh Build.
func TestBuilderReusesWithoutChangingTheAnswer(t *testing.T) {
	objs := rollouttest.Synthetic(20, 5)
	now := rollouttest.Epoch.Add(time.Hour)
	builder := rollout.NewBuilder()
	builder.Build(objs, now)
	changed := objs.Pods[3].DeepCopy()
	changed.ResourceVersion = "changed"
	changed.Status.Conditions = nil // no longer ready
	objs.Pods[3] = changed
	got, want := builder.Build(objs, now), rollout.Build(objs, now)
	if !reflect.DeepEqual(unversioned(got), unversioned(want)) {
		t.Fatal("a Builder's snapshot differs from a fresh Build's")
	}
}

// The watcher's Builder reads its cache, where a pod's facts are made again when it
// changes: the revisions whose ReplicaSet and pods did not change are the previous
// snapshot's (their pod views not copied again), the others are built again.
func TestBuilderReusesUnchangedRevisionsOfTheCache(t *testing.T) {
	api := rollouttest.Synthetic(20, 5)
	objs := rollouttest.Cached(api)
	now := rollouttest.Epoch.Add(time.Hour)
	builder := rollout.NewBuilder()
	first := builder.Build(objs, now)
	// One pod turns not ready (the cache reads it again); one ReplicaSet's status changes.
	changed := api.Pods[3].DeepCopy()
	changed.ResourceVersion = "changed"
	changed.Status.Conditions = nil
	objs.PodFacts[3] = rollout.FactsOf(changed)
	rs := objs.ReplicaSets[7].DeepCopy()
	rs.ResourceVersion = "changed"
	rs.Status.ReadyReplicas--
	objs.ReplicaSets[7] = rs
	got, want := builder.Build(objs, now), rollout.Build(objs, now)
	if !reflect.DeepEqual(unversioned(got), unversioned(want)) {
		t.Fatal("a Builder's snapshot differs from a fresh Build's")
	}
	// A revision's pod list, by where it lives: reused, it is the previous snapshot's.
	views := func(rollouts []rollout.Rollout) map[string]**rollout.Pod {
		out := map[string]**rollout.Pod{}
		for _, r := range rollouts {
			for _, rev := range r.Revisions {
				if len(rev.Pods) > 0 {
					out[rev.ReplicaSet] = &rev.Pods[0]
				}
			}
		}
		return out
	}
	before, after := views(first), views(got)
	podOwner := changed.OwnerReferences[0].Name
	reused := 0
	for name, p := range after {
		switch {
		case name == podOwner || name == rs.Name:
			if p == before[name] {
				t.Errorf("revision %s changed, but its views are the previous snapshot's", name)
			}
		case p == before[name]:
			reused++
		}
	}
	if reused != len(after)-2 {
		t.Errorf("%d of the %d unchanged revisions reused, want all", reused, len(after)-2)
	}
}

// Issue 15: 200 Argo Rollouts / 5,000 pods (with their AnalysisRuns) build within the
// target of DESIGN.md §9 too.
func BenchmarkBuild200ArgoRollouts5000Pods(b *testing.B) {
	objs := rollouttest.Cached(rollouttest.SyntheticArgo(200, 25))
	now := rollouttest.Epoch.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if rollouts := rollout.Build(objs, now); len(rollouts) != 200 {
			b.Fatalf("%d rollouts", len(rollouts))
		}
	}
}

// Issue 16: at 50,000 pods (500 Deployments x 100) under churn, each pod change makes a
// new snapshot: what one costs when one pod changed since the previous.
func BenchmarkRebuildAfterOnePodChange50000Pods(b *testing.B) {
	api := rollouttest.Synthetic(500, 100)
	objs := rollouttest.Cached(api)
	now := rollouttest.Epoch.Add(time.Hour)
	builder := rollout.NewBuilder()
	builder.Build(objs, now)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at := i % len(api.Pods)
		changed := api.Pods[at].DeepCopy()
		changed.ResourceVersion = strconv.Itoa(i)
		objs.PodFacts[at] = rollout.FactsOf(changed)
		i++
		builder.Build(objs, now)
	}
}
