package rollout_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// The captured complete.yaml: revision 2 (api-5654bdd994, created 17:58:50) replaced
// revision 1 (api-7cd7d8ff8c) with a plain rolling update; the Deployment's Progressing
// condition turned NewReplicaSetAvailable for api-5654bdd994 at 17:58:50.
var (
	completeReleased  = time.Date(2026, 11, 22, 17, 58, 50, 0, time.UTC)
	completeCompleted = completeReleased
)

func buildWith(t *testing.T, objs rollout.Objects, bakeTime time.Duration, now time.Time) (rollout.Rollout, *rollout.Builder) {
	t.Helper()
	b := &rollout.Builder{BakeTime: bakeTime}
	rollouts := b.Build(objs, now)
	if len(rollouts) != 1 {
		t.Fatalf("%d rollouts", len(rollouts))
	}
	return rollouts[0], b
}

func setProgressing(d *appsv1.Deployment, reason, message string, updated time.Time) {
	for i := range d.Status.Conditions {
		if c := &d.Status.Conditions[i]; c.Type == appsv1.DeploymentProgressing {
			c.Reason, c.Message, c.LastUpdateTime = reason, message, metav1.NewTime(updated)
		}
	}
}

func TestBakeRollingUpdateDone(t *testing.T) {
	objs, captured := loadFixture(t, "complete")
	completed := completeCompleted.Add(20 * time.Second) // later than the ReplicaSet's creation, to tell them apart
	setProgressing(objs.Deployments[0], "NewReplicaSetAvailable", `ReplicaSet "api-5654bdd994" has successfully progressed.`, completed)
	now := captured.Add(4 * time.Minute)
	r, b := buildWith(t, objs, 15*time.Minute, now)
	if r.Phase != rollout.PhaseBaking || !r.Baking() {
		t.Fatalf("phase %s (%s); want Baking", r.Phase, r.Why)
	}
	bake := r.Bake
	if !bake.CompletedAt.Equal(completed) || !bake.ReleasedAt.Equal(completeReleased) || !bake.Until.Equal(completed.Add(15*time.Minute)) {
		t.Errorf("completed %s released %s until %s; want %s, %s, +15m", bake.CompletedAt, bake.ReleasedAt, bake.Until, completed, completeReleased)
	}
	if bake.Previous != 1 || bake.PreviousReplicaSet != "api-7cd7d8ff8c" || bake.PreviousPodTemplateHash != "7cd7d8ff8c" || r.PreviousRevision() != 1 {
		t.Errorf("previous %d %s %s (PreviousRevision %d); want revision 1, api-7cd7d8ff8c", bake.Previous, bake.PreviousReplicaSet, bake.PreviousPodTemplateHash, r.PreviousRevision())
	}
	if !strings.Contains(string(r.Why), "3/3 available on revision 2") || !strings.Contains(string(r.Why), "baking 15m") {
		t.Errorf("why %q", r.Why)
	}
	if cur := r.Current(); cur == nil || cur.Role != rollout.RoleStable || !r.Settled() {
		t.Errorf("a baking release is settled: its current revision the stable one (%+v)", cur)
	}
	if got := bake.Elapsed(now); got != now.Sub(completed) {
		t.Errorf("elapsed %s", got)
	}
	// The window ends by the clock alone: the watcher must rebuild then.
	if b.NextDeadline() != bake.Until {
		t.Errorf("next deadline %s; want the window's end %s", b.NextDeadline(), bake.Until)
	}
	if r, _ := buildWith(t, objs, 15*time.Minute, bake.Until); r.Phase != rollout.PhaseComplete || r.Bake != nil {
		t.Errorf("at the window's end: phase %s bake %+v; want Complete", r.Phase, r.Bake)
	}
	if r, _ := buildWith(t, objs, 0, now); r.Phase != rollout.PhaseComplete || r.Bake != nil {
		t.Errorf("without a bake time: phase %s; want Complete", r.Phase)
	}
}

func TestBakeTimeAnnotationWins(t *testing.T) {
	cases := []struct {
		value string
		want  time.Duration // 0: not baking
	}{
		{"0", 0},
		{"2m", 2 * time.Minute},
		{"1h", time.Hour},
		{"soon", 15 * time.Minute}, // does not parse: the default
	}
	for _, c := range cases {
		objs, captured := loadFixture(t, "complete")
		objs.Deployments[0].Annotations[rollout.BakeTimeAnnotation] = c.value
		r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Minute))
		switch {
		case c.want == 0 && r.Bake != nil:
			t.Errorf("%q: baking %+v; want no window", c.value, r.Bake)
		case c.want != 0 && (r.Bake == nil || r.Bake.Time != c.want || r.Bake.TimeText != c.want.String()):
			t.Errorf("%q: bake %+v; want %s", c.value, r.Bake, c.want)
		}
	}
	// The annotation turns the window on where the default is off (a Builder without one).
	objs, captured := loadFixture(t, "complete")
	objs.Deployments[0].Annotations[rollout.BakeTimeAnnotation] = "5m"
	if r, _ := buildWith(t, objs, 0, captured.Add(time.Minute)); r.Bake == nil || r.Bake.Time != 5*time.Minute {
		t.Errorf("annotation 5m over no default: %+v", r.Bake)
	}
}

// A Progressing condition that names another ReplicaSet (a stale one, or none) says
// nothing of this release: the window runs from the ReplicaSet's creation.
func TestBakeCompletionFromTheReplicaSetWhenTheConditionIsSilent(t *testing.T) {
	objs, captured := loadFixture(t, "complete")
	setProgressing(objs.Deployments[0], "NewReplicaSetAvailable", `ReplicaSet "api-7cd7d8ff8c" has successfully progressed.`, completeReleased.Add(time.Hour))
	r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Minute))
	if r.Bake == nil || !r.Bake.CompletedAt.Equal(completeReleased) {
		t.Fatalf("bake %+v; want completed at the ReplicaSet's creation %s", r.Bake, completeReleased)
	}
}

// revisionHistoryLimit 0: the old ReplicaSets are deleted once the rollout completes. The
// release still bakes (thresholds judge it), with no revision to roll back to.
func TestBakeRevisionHistoryLimitZero(t *testing.T) {
	objs, captured := loadFixture(t, "complete")
	objs.Deployments[0].Spec.RevisionHistoryLimit = new(int32)
	var kept []*appsv1.ReplicaSet
	for _, rs := range objs.ReplicaSets {
		if rs.Name == "api-5654bdd994" {
			kept = append(kept, rs)
		}
	}
	objs.ReplicaSets = kept
	r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Minute))
	if r.Phase != rollout.PhaseBaking || r.Bake.Previous != 0 || r.Bake.PreviousReplicaSet != "" || r.PreviousRevision() != 0 {
		t.Fatalf("phase %s bake %+v; want Baking with no previous revision", r.Phase, r.Bake)
	}
}

// A rollback in the middle of a release (revision 3 rolling out, then undone to revision
// 1's template, which becomes revision 4 on its old ReplicaSet): in progress, no window.
func TestBakeRollbackInTheMiddle(t *testing.T) {
	objs, captured := loadFixture(t, "rollback-in-progress")
	r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Second))
	if r.Phase != rollout.PhaseProgressing || r.Bake != nil || r.PreviousRevision() != 3 {
		t.Fatalf("phase %s bake %+v previous %d; want Progressing, no window, previous 3", r.Phase, r.Bake, r.PreviousRevision())
	}
}

// The same rollback once complete (rollout undone): it returns to a build that served
// before, on the old ReplicaSet. It does not bake: a guard could only "roll back" to the
// release just undone.
func TestBakeRolloutUndoneDoesNotBake(t *testing.T) {
	objs, captured := loadFixture(t, "rollback-in-progress")
	completeUndo(objs, captured)
	r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Minute))
	if r.Phase != rollout.PhaseComplete || r.Bake != nil {
		t.Fatalf("phase %s (%s) bake %+v; want Complete without a window", r.Phase, r.Why, r.Bake)
	}
	if r.CanaryRevision != 4 || r.PreviousRevision() != 3 {
		t.Errorf("current %d previous %d; want 4 and 3", r.CanaryRevision, r.PreviousRevision())
	}
	// The guard's own rollback (seen on the sandbox): it acted on revision 3, which is then
	// no previous known-good; still a return to an older build, not a release.
	acted, _ := intentJSON(3)
	objs.Deployments[0].Annotations[intent.GuardActedAnnotation] = acted
	if r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Minute)); r.Phase != rollout.PhaseComplete || r.Bake != nil {
		t.Errorf("after the guard's rollback: phase %s bake %+v; want Complete without a window", r.Phase, r.Bake)
	}
}

// completeUndo finishes the captured rollback: revision 4 (api-7cd7d8ff8c) serves alone.
func completeUndo(objs rollout.Objects, captured time.Time) {
	d := objs.Deployments[0]
	d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UnavailableReplicas = 3, 3, 3, 3, 0
	setProgressing(d, "NewReplicaSetAvailable", `ReplicaSet "api-7cd7d8ff8c" has successfully progressed.`, captured.Add(5*time.Second))
	for _, rs := range objs.ReplicaSets {
		n := int32(0)
		if rs.Name == "api-7cd7d8ff8c" {
			n = 3
		}
		rs.Spec.Replicas = &n
		rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = n, n, n
	}
	objs.Pods = nil
}

// The revision a guard acted on is not a build to go back to: the previous known-good is
// the newest older revision the guard left alone.
func TestBakePreviousSkipsWhatTheGuardActedOn(t *testing.T) {
	objs, captured := loadFixture(t, "ten-old-replicasets")
	r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Second))
	want := r.PreviousRevision()
	if want == 0 {
		t.Fatal("no previous revision")
	}
	acted, _ := intentJSON(want)
	objs.Deployments[0].Annotations[intent.GuardActedAnnotation] = acted
	r, _ = buildWith(t, objs, 15*time.Minute, captured.Add(time.Second))
	if got := r.PreviousRevision(); got == want || got == 0 {
		t.Errorf("previous %d with the guard's record on %d; want an older one", got, want)
	}
}

func intentJSON(revision int64) (string, error) {
	return `{"revision":` + strconv.FormatInt(revision, 10) + `,"action":"halt","guard":"guard","time":"2026-11-22T17:59:00Z"}`, nil
}

// The first revision of a rollout has nothing before it to compare with or go back to.
func TestBakeFirstRevisionDoesNotBake(t *testing.T) {
	objs, captured := loadFixture(t, "zero-replicas")
	objs.Deployments[0].Spec.Replicas = new(int32)
	r, _ := buildWith(t, objs, 15*time.Minute, captured.Add(time.Second))
	if r.Bake != nil {
		t.Errorf("revision %d baking: %+v", r.CanaryRevision, r.Bake)
	}
}

// An Argo Rollout's release completes when its Completed condition turns True.
func TestBakeArgoCompleted(t *testing.T) {
	objs, ro := argoObjects()
	ro.Status.StableRS = canaryHash
	ro.Status.CurrentStepIndex = ptr(int32(4))
	ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
	ro.Status.UpdatedReplicas = 5
	ro.Status.Phase, ro.Status.Message = string(argo.PhaseHealthy), ""
	completed := argoNow.Add(-3 * time.Minute)
	ro.Status.Conditions = append(ro.Status.Conditions,
		argo.RolloutCondition{Type: "Progressing", Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: metav1.NewTime(completed.Add(-time.Minute))},
		argo.RolloutCondition{Type: "Completed", Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(completed)})
	b := &rollout.Builder{BakeTime: 10 * time.Minute}
	var r rollout.Rollout
	for _, x := range b.Build(objs, argoNow) {
		if x.Kind == ref.ArgoRollout {
			r = x
		}
	}
	if r.Phase != rollout.PhaseBaking || r.Bake == nil || !r.Bake.CompletedAt.Equal(completed) || r.Bake.Previous != 1 || r.Bake.PreviousPodTemplateHash != stableHash {
		t.Fatalf("phase %s bake %+v; want Baking since %s, previous revision 1", r.Phase, r.Bake, completed)
	}
}
