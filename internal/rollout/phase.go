package rollout

import (
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// decidePhase applies DESIGN.md §4: Halted (spec.paused), else Failed (progress deadline
// exceeded), else Degraded (canary pods failing), else Complete (as `kubectl rollout
// status`), else Progressing; with the one line that explains it.
func decidePhase(d *appsv1.Deployment, r *Rollout, now time.Time, clock *graceClock) (Phase, safetext.Text) {
	canary := r.Canary()
	failing := summarizeFailing(canary, now, clock)
	rep := r.Replicas
	switch {
	case d.Spec.Paused:
		why := safetext.Sprintf("halted with %d/%d pods on the new revision", rep.Updated, rep.Desired)
		if canary == nil && d.Status.ObservedGeneration >= d.Generation && rep.Updated < rep.Desired {
			why = safetext.Sprintf("halted before the new revision started (%d/%d updated)", rep.Updated, rep.Desired)
		}
		if failing != "" {
			why += "; " + failing
		}
		return PhaseHalted, why
	case deadlineExceeded(d):
		why := safetext.Text("progress deadline exceeded")
		if d.Spec.ProgressDeadlineSeconds != nil {
			why = safetext.Sprintf("no progress for %ds (progress deadline exceeded)", *d.Spec.ProgressDeadlineSeconds)
		}
		if failing != "" {
			// The cause first: a narrow table clips the end of the line.
			why = failing + "; " + why
		}
		return PhaseFailed, why
	case failing != "":
		return PhaseDegraded, failing
	case d.Status.ObservedGeneration < d.Generation:
		return PhaseProgressing, "waiting for the deployment controller to pick up the change"
	case rep.Desired == 0 && rep.Current == 0:
		return PhaseComplete, safetext.Sprintf("scaled to zero on revision %d", r.CanaryRevision)
	case rep.Updated == rep.Desired && rep.Current == rep.Desired && rep.Available == rep.Desired:
		return PhaseComplete, safetext.Sprintf("%d/%d available on revision %d", rep.Available, rep.Desired, r.CanaryRevision)
	case rep.Updated < rep.Desired:
		return PhaseProgressing, safetext.Sprintf("%d/%d pods updated, %d available", rep.Updated, rep.Desired, rep.Available)
	case rep.Current > rep.Updated:
		return PhaseProgressing, safetext.Sprintf("%d old pods terminating", rep.Current-rep.Updated)
	default:
		return PhaseProgressing, safetext.Sprintf("%d/%d updated pods available", rep.Available, rep.Desired)
	}
}

func deadlineExceeded(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing {
			return c.Reason == "ProgressDeadlineExceeded"
		}
	}
	return false
}

// summarizeFailing says what is wrong with the canary's pods, "" when nothing is:
// "2/3 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'".
// While the pods are still being read (clock.podsSyncing) nothing is: a decision never rests
// on half the pods.
func summarizeFailing(canary *Revision, now time.Time, clock *graceClock) safetext.Text {
	if canary == nil || len(canary.Pods) == 0 || clock.podsSyncing {
		return ""
	}
	counts := map[safetext.Text]int{}
	hints := map[safetext.Text]safetext.Text{}
	for _, p := range canary.Pods {
		reason := p.Reason
		switch {
		case p.Failing():
		case p.Reason != ReasonTerminating && p.NotReadySince != nil && clock.expired(*p.NotReadySince, now):
			reason = safetext.Sprintf("not ready for %s", roundDuration(now.Sub(*p.NotReadySince)))
			if p.Reason != "" && p.Reason != ReasonNotReady {
				reason = p.Reason + " for " + roundDuration(now.Sub(*p.NotReadySince))
			}
		default:
			continue
		}
		counts[reason]++
		if hints[reason] == "" {
			hints[reason] = p.Hint
			if hints[reason] == "" && p.Reason == ReasonUnschedulable {
				hints[reason] = p.Detail
			}
		}
	}
	if len(counts) == 0 {
		return ""
	}
	reasons := make([]safetext.Text, 0, len(counts))
	for reason := range counts {
		reasons = append(reasons, reason)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if counts[reasons[i]] != counts[reasons[j]] {
			return counts[reasons[i]] > counts[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	top := reasons[0]
	why := safetext.Sprintf("%d/%d canary pods %s", counts[top], len(canary.Pods), top)
	if hint := hints[top]; hint != "" && !strings.HasPrefix(string(hint), string(top)) {
		why += ": " + hint
	} else if hint != "" {
		why += hint[len(top):]
	}
	return why
}

// graceClock is the grace a not-ready canary pod gets before the rollout is Degraded,
// and the earliest moment a pod's grace ends after now: the phase changes then without
// any API event, so the watcher must rebuild at that time (Builder.NextDeadline).
type graceClock struct {
	grace time.Duration
	next  time.Time
	// consulted counts the answers that depended on the time (a grace asked about, a
	// wake-up set): a rollout whose build did not move it is the same at any later time.
	consulted int
	// podsSyncing: the pods are still being read (Objects.PodsSyncing); no pod fails yet.
	podsSyncing bool
}

// expired reports whether a pod not ready since then is past its grace at now, and
// remembers when it will be if it is not yet.
func (c *graceClock) expired(since, now time.Time) bool {
	c.consulted++
	end := since.Add(c.grace)
	if now.After(end) {
		return true
	}
	if c.next.IsZero() || end.Before(c.next) {
		c.next = end
	}
	return false
}

// wake remembers that the answer changes at t (a bake window ends).
func (c *graceClock) wake(t time.Time) {
	c.consulted++
	if c.next.IsZero() || t.Before(c.next) {
		c.next = t
	}
}

func roundDuration(d time.Duration) safetext.Text {
	switch {
	case d >= time.Hour:
		return safetext.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return safetext.Sprintf("%dm", int(d.Minutes()))
	default:
		return safetext.Sprintf("%ds", int(d.Seconds()))
	}
}
