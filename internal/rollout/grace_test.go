package rollout_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// A canary pod that stays not ready with no further events: the builder says when its
// grace ends, and a build at that time (the watcher's clock-driven rebuild) says Degraded.
func TestNotReadyCanaryBecomesDegradedByTheClock(t *testing.T) {
	objs, captured := loadFixture(t, "mid-rollout")
	since := captured.Add(-time.Minute)
	makeCanaryUnready(objs, since)
	b := rollout.NewBuilder()
	b.NotReadyGrace = 2 * time.Minute
	before := b.Build(objs, captured)
	if before[0].Phase == rollout.PhaseDegraded {
		t.Fatalf("degraded within the grace: %s", before[0].Why)
	}
	deadline := b.NextDeadline()
	if !deadline.Equal(since.Add(2 * time.Minute)) {
		t.Fatalf("next deadline %v; want the end of the canary pod's grace, %v", deadline, since.Add(2*time.Minute))
	}
	after := b.Build(objs, deadline.Add(time.Millisecond))
	if after[0].Phase != rollout.PhaseDegraded || b.NextDeadline() != (time.Time{}) {
		t.Errorf("at the deadline: %s (%s), next %v; want Degraded and no further deadline", after[0].Phase, after[0].Why, b.NextDeadline())
	}
}

// makeCanaryUnready makes every pod of the newest revision not ready since then.
func makeCanaryUnready(objs rollout.Objects, since time.Time) {
	var newest int64
	for _, rs := range objs.ReplicaSets {
		newest = max(newest, rollout.RevisionOf(rs))
	}
	for _, p := range objs.Pods {
		owner := metav1.GetControllerOfNoCopy(p)
		for _, rs := range objs.ReplicaSets {
			if owner != nil && owner.UID == rs.UID && rollout.RevisionOf(rs) == newest {
				for i, c := range p.Status.Conditions {
					if c.Type == corev1.PodReady {
						p.Status.Conditions[i].Status = corev1.ConditionFalse
						p.Status.Conditions[i].LastTransitionTime = metav1.NewTime(since)
					}
				}
				for i := range p.Status.ContainerStatuses {
					p.Status.ContainerStatuses[i].Ready = false
				}
			}
		}
	}
}
