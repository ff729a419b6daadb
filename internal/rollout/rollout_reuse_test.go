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

// sharedPods are pods grouped as a watcher's index hands them over: a group's slice stays
// the same while none of its pods changed, and a change makes a new one.
type sharedPods map[types.UID][]*rollout.PodFacts

func (s sharedPods) replace(f *rollout.PodFacts) {
	group := slices.Clone(s[f.Owner])
	for i, p := range group {
		if p.View.Name == f.View.Name {
			group[i] = f
		}
	}
	s[f.Owner] = group
}

func (s sharedPods) flat() []*rollout.PodFacts {
	var out []*rollout.PodFacts
	for _, g := range s {
		out = append(out, g...)
	}
	return out
}

// A Builder fed a watcher's groups reuses whole rollouts whose Deployment, ReplicaSets and
// pods are the same ones, and still answers as a fresh Build at every step: through pods
// turning not ready (a grace that runs out as time moves with no object changing), crash
// loops, a Deployment halted, a ReplicaSet's status moving, and the cache handing its
// ReplicaSets over in another order.
func TestBuilderReusesUnchangedRolloutsAndAnswersAsAFreshBuild(t *testing.T) {
	api := rollouttest.Synthetic(20, 5)
	objs := rollouttest.Cached(api)
	groups := sharedPods{}
	for _, p := range objs.PodFacts {
		groups[p.Owner] = append(groups[p.Owner], p)
	}
	objs.PodFacts, objs.PodsByOwner = nil, groups
	builder := rollout.NewBuilder()
	now := rollouttest.Epoch.Add(time.Hour)
	prev := builder.Build(objs, now)
	reused := 0
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
		groups.replace(rollout.FactsOf(pod))

		got := builder.Build(objs, now)
		fresh := objs
		fresh.PodsByOwner, fresh.PodFacts = nil, groups.flat()
		if want := rollout.Build(fresh, now); !reflect.DeepEqual(got, want) {
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("step %d: %s/%s is %s (%s), a fresh Build says %s (%s)", step, got[i].Namespace, got[i].Name, got[i].Phase, got[i].Why, want[i].Phase, want[i].Why)
				}
			}
			t.Fatalf("step %d: the Builder's snapshot differs from a fresh Build's", step)
		}
		if got, want := builder.NextDeadline(), nextDeadline(fresh, now); !got.Equal(want) {
			t.Errorf("step %d: next deadline %v, a fresh Build's %v", step, got, want)
		}
		reused += sameRevisions(prev, got)
		prev = got
	}
	if reused < 20*24/2 {
		t.Errorf("%d rollouts of %d reused whole over the steps, want most (one or two change a step)", reused, 20*24)
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
