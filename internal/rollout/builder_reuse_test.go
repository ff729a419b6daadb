package rollout_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// A Builder fed a watcher's groups reuses whole rollouts whose Deployment, ReplicaSets and
// pods are the same ones, and still answers as a fresh Build at every step: through pods
// turning not ready (a grace that runs out as time moves with no object changing), crash
// loops, a Deployment halted, a ReplicaSet's status moving, and the cache handing its
// ReplicaSets over in another order.
func TestBuilderReusesUnchangedRolloutsAndAnswersAsAFreshBuild(t *testing.T) {
	api := rollouttest.Synthetic(20, 5)
	objs := rollouttest.Cached(api)
	groups := rollouttest.GroupByOwner(objs.PodFacts)
	objs.PodFacts, objs.PodsByOwner = nil, groups
	builder := rollout.NewBuilder()
	now := rollouttest.Epoch.Add(time.Hour)
	prev := builder.Build(objs, now)
	reused, keptVersions := 0, 0
	for step := range 24 {
		now = now.Add(2 * time.Minute) // past a 5-minute grace within three steps
		pod := api.Pods[(step*37)%len(api.Pods)].DeepCopy()
		pod.ResourceVersion = "step"
		switch step % 4 {
		case 0: // not ready since now: its grace runs out two steps later, with no event
			pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(now)}}
			pod.Status.ContainerStatuses[0].Ready = false
		case 1: // crash-looping
			pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(now)}}
			pod.Status.ContainerStatuses[0].Ready = false
			pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
		case 2:
			d := objs.Deployments[step%len(objs.Deployments)].DeepCopy()
			d.ResourceVersion, d.Spec.Paused = "halted", true
			objs.Deployments[step%len(objs.Deployments)] = d
		case 3:
			rs := objs.ReplicaSets[step%len(objs.ReplicaSets)].DeepCopy()
			rs.ResourceVersion = "moved"
			rs.Status.ReadyReplicas--
			objs.ReplicaSets[step%len(objs.ReplicaSets)] = rs
			slices.Reverse(objs.ReplicaSets)
		}
		groups.Replace(rollout.FactsOf(pod))

		got := builder.Build(objs, now)
		fresh := objs
		fresh.PodsByOwner, fresh.PodFacts = nil, groups.Flat()
		if want := rollout.Build(fresh, now); !reflect.DeepEqual(unversioned(got), unversioned(want)) {
			for i := range got {
				if !reflect.DeepEqual(unversioned(got[i:i+1]), unversioned(want[i:i+1])) {
					t.Fatalf("step %d: %s/%s is %s (%s), a fresh Build says %s (%s)", step, got[i].Namespace, got[i].Name, got[i].Phase, got[i].Why, want[i].Phase, want[i].Why)
				}
			}
			t.Fatalf("step %d: the Builder's snapshot differs from a fresh Build's", step)
		}
		if got, want := builder.NextDeadline(), nextDeadline(fresh, now); !got.Equal(want) {
			t.Errorf("step %d: next deadline %v, a fresh Build's %v", step, got, want)
		}
		reused += sameRevisions(prev, got)
		keptVersions += sameVersions(t, prev, got)
		prev = got
	}
	if reused < 20*24/2 {
		t.Errorf("%d rollouts of %d reused whole over the steps, want most (one or two change a step)", reused, 20*24)
	}
	if keptVersions < 20*24/2 {
		t.Errorf("%d rollouts of %d kept their Version over the steps, want most", keptVersions, 20*24)
	}
	// Nothing changed but the order the cache lists the ReplicaSets in: every rollout that
	// was reused before is reused again.
	again := builder.Build(objs, now)
	reusable := sameRevisions(prev, again)
	slices.Reverse(objs.ReplicaSets)
	if n := sameRevisions(again, builder.Build(objs, now)); n != reusable {
		t.Errorf("the ReplicaSets listed in another order: %d rollouts reused, want %d", n, reusable)
	}
}

// unversioned is rs without their Versions: two Builders number alike contents apart.
func unversioned(rs []rollout.Rollout) []rollout.Rollout {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Version = 0
	}
	return out
}

// sameVersions counts the rollouts of next with prev's Version, and fails the test where
// one differs from prev's in anything: a view that keeps what it drew for a Version would
// show it stale.
func sameVersions(t *testing.T, prev, next []rollout.Rollout) int {
	t.Helper()
	byRef := map[string]rollout.Rollout{}
	for _, r := range prev {
		byRef[r.Ref().String()] = r
	}
	n := 0
	for _, r := range next {
		if p, ok := byRef[r.Ref().String()]; ok && p.Version == r.Version {
			if !reflect.DeepEqual(p, r) {
				t.Errorf("%s kept Version %d but changed (%s, %s -> %s, %s)", r.Ref(), r.Version, p.Phase, p.Why, r.Phase, r.Why)
			}
			n++
		}
	}
	return n
}

func nextDeadline(objs rollout.Objects, now time.Time) time.Time {
	b := rollout.NewBuilder()
	b.Build(objs, now)
	return b.NextDeadline()
}

// sameRevisions counts the rollouts of next whose revisions are prev's very own (reused
// whole, not built again).
func sameRevisions(prev, next []rollout.Rollout) int {
	byName := map[string]*rollout.Revision{}
	for _, r := range prev {
		if len(r.Revisions) > 0 {
			byName[r.Namespace+"/"+r.Name] = &r.Revisions[0]
		}
	}
	n := 0
	for _, r := range next {
		if len(r.Revisions) > 0 && byName[r.Namespace+"/"+r.Name] == &r.Revisions[0] {
			n++
		}
	}
	return n
}

func eventAbout(uid types.UID, reason string, at time.Time) *corev1.Event {
	return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: reason, Namespace: "team-0"}, Reason: reason, Type: corev1.EventTypeNormal,
		InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", UID: uid}, LastTimestamp: metav1.NewTime(at)}
}

func reasons(r rollout.Rollout) []string {
	var out []string
	for _, e := range r.Events {
		out = append(out, e.Reason.String())
	}
	return out
}

// With the events grouped by a watcher, a rollout's events are read again only when one of
// its groups is a new slice (the index lists a changed group anew); with the same groups,
// in whatever order its ReplicaSets come, the answer is the previous one. Events grouped
// by Build itself (a fresh map each time) are read every time.
func TestBuilderReadsARolloutsEventsAgainOnlyWhenTheirGroupsChanged(t *testing.T) {
	objs := rollouttest.Cached(rollouttest.Synthetic(1, 2))
	now := rollouttest.Epoch.Add(time.Hour)
	uids := []types.UID{objs.ReplicaSets[0].UID, objs.ReplicaSets[1].UID}
	objs.EventsByObject = map[types.UID][]*corev1.Event{
		uids[0]: {eventAbout(uids[0], "ScaledDown", rollouttest.Epoch)},
		uids[1]: {eventAbout(uids[1], "ScaledUp", rollouttest.Epoch.Add(time.Minute))},
	}
	builder := rollout.NewBuilder()
	first := builder.Build(objs, now)[0]

	objs.ReplicaSets[0], objs.ReplicaSets[1] = objs.ReplicaSets[1], objs.ReplicaSets[0]
	second := builder.Build(objs, now)[0]
	if len(second.Events) != 2 || &second.Events[0] != &first.Events[0] {
		t.Errorf("the same groups (the ReplicaSets in another order) were read again: %v", reasons(second))
	}

	objs.EventsByObject[uids[1]] = []*corev1.Event{eventAbout(uids[1], "ScaledUp", rollouttest.Epoch.Add(time.Minute)), eventAbout(uids[1], "Killing", rollouttest.Epoch.Add(2*time.Minute))}
	third := builder.Build(objs, now)[0]
	if got := reasons(third); len(got) != 3 || got[0] != "Killing" {
		t.Errorf("after a new event of the canary's ReplicaSet: %v, want Killing first of 3", got)
	}

	objs.Events, objs.EventsByObject = append(objs.EventsByObject[uids[0]], objs.EventsByObject[uids[1]]...), nil
	fourth := builder.Build(objs, now)[0]
	objs.Events = objs.Events[1:]
	if fifth := builder.Build(objs, now)[0]; len(fourth.Events) != 3 || len(fifth.Events) != 2 {
		t.Errorf("events grouped by Build: %v, then %v; want 3, then 2", reasons(fourth), reasons(fifth))
	}
}

// A rollout handed out again with nothing changed keeps its Version; a new event on it,
// its Deployment and pods the same ones, gives it a new one.
func TestBuilderVersionFollowsTheEventsToo(t *testing.T) {
	objs := rollouttest.Cached(rollouttest.Synthetic(1, 2))
	objs.PodFacts, objs.PodsByOwner = nil, rollouttest.GroupByOwner(objs.PodFacts)
	uid := objs.ReplicaSets[0].UID
	objs.EventsByObject = map[types.UID][]*corev1.Event{uid: {eventAbout(uid, "ScaledUp", rollouttest.Epoch)}}
	builder := rollout.NewBuilder()
	now := rollouttest.Epoch.Add(time.Hour)
	first := builder.Build(objs, now)[0]
	second := builder.Build(objs, now)[0]
	if second.Version != first.Version || first.Version == 0 {
		t.Errorf("nothing changed: Version %d, then %d; want the same, not 0", first.Version, second.Version)
	}
	objs.EventsByObject[uid] = append(slices.Clone(objs.EventsByObject[uid]), eventAbout(uid, "Killing", rollouttest.Epoch.Add(time.Minute)))
	third := builder.Build(objs, now)[0]
	if third.Version == second.Version || len(third.Events) != 2 {
		t.Errorf("a new event: Version %d, then %d with %v; want a new Version with 2 events", second.Version, third.Version, reasons(third))
	}
}
