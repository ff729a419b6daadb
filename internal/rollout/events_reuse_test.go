package rollout_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

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
