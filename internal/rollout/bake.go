package rollout

import (
	"errors"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// BakeTimeAnnotation on a Deployment or Argo Rollout is how long a release stays watched
// after it completed ("15m"; "0" turns the bake window off). It wins over the config
// file's and the default's.
const BakeTimeAnnotation = "pyroll.dev/bake-time"

// DefaultBakeTime is the bake time of a release without the annotation or a config.
const DefaultBakeTime = 15 * time.Minute

// ParseBakeTime reads a bake time: a duration, "0" for none.
func ParseBakeTime(v string) (time.Duration, error) {
	if strings.TrimSpace(v) == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return 0, errBakeTime
	}
	return d, nil
}

var errBakeTime = errors.New(`want a duration, e.g. "15m", or "0" for no bake window`)

// Bake is a release's bake window (DESIGN §4, Baking): a release that completed less than
// its bake time ago is still watched, judged against its thresholds or the numbers the
// revision that served before it had before the release, and rolled back to that revision
// when the policy says so.
type Bake struct {
	// Time is the bake time: how long after it completed the release is watched.
	Time time.Duration `json:"-"`
	// TimeText is Time as text ("15m0s"), for the JSON.
	TimeText string `json:"time"`
	// ReleasedAt is when the release began: its ReplicaSet was created. The numbers of the
	// revision before it are read over the minutes before that.
	ReleasedAt time.Time `json:"releasedAt"`
	// CompletedAt is when the current revision became complete, as its rollout's
	// conditions say (the Deployment's Progressing condition turning
	// NewReplicaSetAvailable for this ReplicaSet, an Argo Rollout's Completed condition),
	// else its ReplicaSet's creation.
	CompletedAt time.Time `json:"completedAt"`
	// Until is when the window ends: CompletedAt + Time.
	Until time.Time `json:"until"`
	// Previous is the revision that served before the release (the previous known-good, as
	// the rollback key picks it): what a breaching release is rolled back to and compared
	// with. 0 when none is kept (revisionHistoryLimit 0).
	Previous int64 `json:"previousRevision,omitempty"`
	// PreviousReplicaSet and PreviousPodTemplateHash name the previous revision's
	// ReplicaSet: its pods are gone, their series are not.
	PreviousReplicaSet      string `json:"previousReplicaSet,omitempty"`
	PreviousPodTemplateHash string `json:"previousPodTemplateHash,omitempty"`
}

// Elapsed is how long the window has run at now (at most Time).
func (b *Bake) Elapsed(now time.Time) time.Duration {
	return min(max(now.Sub(b.CompletedAt), 0), b.Time)
}

// Baking reports whether the rollout's current release is in its bake window.
func (r *Rollout) Baking() bool { return r.Phase == PhaseBaking && r.Bake != nil }

// PreviousRevision is the revision that served before the current one: during a rollout
// the stable one; once settled the previous known-good, the newest older revision the
// guard did not act on (a release the guard stopped is not a build to go back to).
func (r *Rollout) PreviousRevision() int64 {
	if r.StableRevision > 0 && !r.Settled() {
		return r.StableRevision
	}
	if prev := r.previousKnownGood(); prev != nil {
		return prev.Number
	}
	return 0
}

func (r *Rollout) previousKnownGood() *Revision {
	for i := range r.Revisions { // newest first
		rev := &r.Revisions[i]
		if rev.Number == 0 || (r.CanaryRevision != 0 && rev.Number >= r.CanaryRevision) {
			continue
		}
		if r.GuardActed != nil && rev.Number == r.GuardActed.Revision {
			continue
		}
		return rev
	}
	return nil
}

// bake puts a Complete rollout whose release completed less than its bake time ago in its
// bake window (PhaseBaking), and wakes the watcher when the window ends. Not baked: a
// first revision (nothing served before it), a rollout scaled to zero, and a return to an
// older build (an undo or a rollback reuses the old ReplicaSet, created before the
// revision it replaces): it goes back to a build that served before, and a guard judging
// it could only "roll back" to the release just undone.
func (b *Builder) bake(r *Rollout, annotations map[string]string, completedAt, now time.Time) {
	current := r.Current()
	if r.Phase != PhaseComplete || current == nil || r.CanaryRevision <= 1 || r.Replicas.Desired == 0 {
		return
	}
	bakeTime := b.BakeTime
	if v, ok := annotations[BakeTimeAnnotation]; ok {
		if d, err := ParseBakeTime(v); err == nil {
			bakeTime = d
		}
	}
	if bakeTime <= 0 {
		return
	}
	if r.returnsToAnOlderBuild(current) {
		return
	}
	prev := r.previousKnownGood()
	released := current.CreatedAt
	if completedAt.Before(released) {
		completedAt = released
	}
	until := completedAt.Add(bakeTime)
	if !now.Before(until) {
		return
	}
	b.clock.wake(until)
	bake := &Bake{Time: bakeTime, TimeText: bakeTime.String(), ReleasedAt: released, CompletedAt: completedAt, Until: until}
	if prev != nil {
		bake.Previous, bake.PreviousReplicaSet, bake.PreviousPodTemplateHash = prev.Number, prev.ReplicaSet, prev.PodTemplateHash
	}
	r.Bake = bake
	r.Phase = PhaseBaking
	r.Why += safetext.Sprintf("; baking %s after it completed", shortDuration(bakeTime))
}

// returnsToAnOlderBuild: the current revision's ReplicaSet is older than a revision
// before it (an undo or a rollback renumbers the old ReplicaSet it reuses).
func (r *Rollout) returnsToAnOlderBuild(current *Revision) bool {
	for i := range r.Revisions {
		if rev := &r.Revisions[i]; rev.Number != 0 && rev.Number < current.Number && rev.CreatedAt.After(current.CreatedAt) {
			return true
		}
	}
	return false
}

// deploymentCompletedAt is when the Deployment's current ReplicaSet became complete: its
// Progressing condition turns NewReplicaSetAvailable naming that ReplicaSet, and keeps
// that update time while nothing changes (zero when the condition says nothing of it).
func deploymentCompletedAt(d *appsv1.Deployment, current *appsv1.ReplicaSet) time.Time {
	if current == nil {
		return time.Time{}
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionTrue &&
			c.Reason == "NewReplicaSetAvailable" && strings.Contains(c.Message, `"`+current.Name+`"`) {
			return c.LastUpdateTime.Time
		}
	}
	return time.Time{}
}

// argoCompletedAt is when the Argo Rollout's current revision became complete: its
// Completed condition's transition to True, else its Progressing condition's
// NewReplicaSetAvailable update (zero without either).
func argoCompletedAt(ro *argo.Rollout) time.Time {
	var progressed time.Time
	for _, c := range ro.Status.Conditions {
		switch {
		case c.Type == "Completed" && c.Status == corev1.ConditionTrue:
			return c.LastTransitionTime.Time
		case c.Type == "Progressing" && c.Status == corev1.ConditionTrue && c.Reason == "NewReplicaSetAvailable":
			progressed = c.LastUpdateTime.Time
		}
	}
	return progressed
}

// shortDuration is "15m", "1h30m", "45s": a duration as a person writes it.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// ShortDuration is a duration as a person writes it: "15m", "1h30m", "45s".
func ShortDuration(d time.Duration) string { return shortDuration(d) }
