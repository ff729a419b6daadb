package rollout

import (
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Argo is what an Argo Rollout adds to the picture: its strategy, steps, weights and the
// values its analysis measured.
type Argo struct {
	// Strategy is "canary" or "blueGreen".
	Strategy string `json:"strategy"`
	// Phase and Message are argo's own, as its controller and plugin decide them.
	Phase   argo.Phase    `json:"phase"`
	Message safetext.Text `json:"message,omitempty"`
	// StepIndex is status.currentStepIndex (StepCount once every step is done); StepCount
	// is the number of steps (0 without steps).
	StepIndex int32           `json:"stepIndex"`
	StepCount int32           `json:"stepCount"`
	Steps     []argo.StepView `json:"steps,omitempty"`
	// Step is the list's STEP cell as argo's plugin numbers it: "1/4 20%" ("" without steps).
	Step string `json:"step,omitempty"`
	// SetWeight is the canary weight the steps ask for now; ActualWeight what it gets (the
	// traffic router's weight, or the canary's share of available pods without one).
	SetWeight    int32 `json:"setWeight"`
	ActualWeight int32 `json:"actualWeight"`
	// Aborted: status.abort; traffic went back to stable, promote waits for a retry.
	Aborted bool `json:"aborted,omitempty"`
	// WaitingForPromotion: paused at a pause step without a duration, or on an
	// inconclusive analysis: a person decides.
	WaitingForPromotion bool `json:"waitingForPromotion,omitempty"`
	// FullyPromoted: the current revision is the stable one; a full promote has nothing to do.
	FullyPromoted bool `json:"fullyPromoted,omitempty"`
	// WorkloadRef names the Deployment the Rollout takes its template from ("" when inline).
	WorkloadRef safetext.Text `json:"workloadRef,omitempty"`
	// Analysis: the AnalysisRuns of the current revision, newest first.
	Analysis []argo.AnalysisView `json:"analysis,omitempty"`
}

// workloadRefs are the Deployments Argo Rollouts take their templates from, by namespace
// and name: they are scaled to zero and stand for no rollout of their own.
func workloadRefs(rollouts []*argo.Rollout) map[types.NamespacedName]bool {
	refs := map[types.NamespacedName]bool{}
	for _, ro := range rollouts {
		if w := ro.Spec.WorkloadRef; w != nil && w.Kind == "Deployment" {
			refs[types.NamespacedName{Namespace: ro.Namespace, Name: w.Name}] = true
		}
	}
	return refs
}

func (b *Builder) buildArgo(ro *argo.Rollout, replicaSets []*appsv1.ReplicaSet, podsByOwner map[types.UID][]*PodFacts, runs []*argo.AnalysisRun, now time.Time) Rollout {
	desired := int32(1)
	if ro.Spec.Replicas != nil {
		desired = *ro.Spec.Replicas
	}
	st := ro.Status
	r := Rollout{
		Kind:      ref.ArgoRollout,
		Namespace: safeName(ro.Namespace),
		Name:      safeName(ro.Name),
		Paused:    ro.Spec.Paused,
		StartedAt: ro.CreationTimestamp.Time,
		Replicas: Replicas{
			Desired: desired, Current: st.Replicas, Updated: st.UpdatedReplicas,
			Ready: st.ReadyReplicas, Available: st.AvailableReplicas, Unavailable: max(0, desired-st.AvailableReplicas),
		},
	}
	hashes := argo.RevisionsOf(ro)
	blueGreen := ro.Spec.Strategy.BlueGreen != nil
	r.Revisions = make([]Revision, 0, len(replicaSets))
	var canaryAvailable int32
	for _, rs := range replicaSets {
		rev := b.buildRevision(rs, argo.RevisionOf(rs), rs.Labels[argo.PodTemplateHashLabel], podsByOwner[rs.UID])
		switch hash := rev.PodTemplateHash; {
		case blueGreen && hash == hashes.Active:
			rev.Role = RoleActive
		case blueGreen && hash == hashes.Preview:
			rev.Role = RolePreview
		case hash == st.CurrentPodHash:
			// Fully promoted, the current revision is both argo's canary and stable: it is
			// the canary until the rollout is Complete, then settle makes it the stable one,
			// as for a Deployment.
			rev.Role = RoleCanary
		case hash == hashes.Stable:
			rev.Role = RoleStable
		}
		if hash := rev.PodTemplateHash; hash == st.CurrentPodHash {
			r.StartedAt = rs.CreationTimestamp.Time
			canaryAvailable = rev.Available
		}
		switch {
		case rev.Role.IsNew() || (blueGreen && rev.Role == RoleActive && hashes.Preview == hashes.Active):
			r.CanaryRevision = rev.Number
		case rev.Role.IsServing():
			r.StableRevision = rev.Number
		}
		r.Revisions = append(r.Revisions, rev)
	}
	slices.SortStableFunc(r.Revisions, func(a, b Revision) int {
		if newerRevision(a, b) {
			return -1
		}
		if newerRevision(b, a) {
			return 1
		}
		return 0
	})
	readAnnotations(&r, ro.Annotations)
	r.Owner = ownerOf(ref.ArgoRollout, ro)
	r.Argo = argoView(ro, canaryAvailable, runs)
	r.Phase, r.Why = decideArgoPhase(ro, &r, now, &b.clock)
	settle(&r)
	b.bake(&r, ro.Annotations, argoCompletedAt(ro), now)
	return r
}

func argoView(ro *argo.Rollout, canaryAvailable int32, runs []*argo.AnalysisRun) *Argo {
	a := &Argo{
		Strategy:      "canary",
		Aborted:       argo.Aborted(ro),
		SetWeight:     argo.SetWeight(ro),
		ActualWeight:  argo.ActualWeight(ro, canaryAvailable),
		FullyPromoted: argo.FullyPromoted(ro),
		Steps:         argo.Steps(ro),
		Step:          argo.StepLabel(ro),
		Analysis:      argo.AnalysesOf(ro, runs, ro.Status.CurrentPodHash),
	}
	phase, message := argo.RolloutPhase(ro)
	// argo's controller writes its phase and message into the status as it likes.
	a.Phase, a.Message = argo.Phase(safetext.Line(string(phase))), safetext.Line(message)
	if ro.Spec.Strategy.BlueGreen != nil {
		a.Strategy = "blueGreen"
	}
	if w := ro.Spec.WorkloadRef; w != nil {
		a.WorkloadRef = safetext.Line(strings.ToLower(w.Kind) + "/" + w.Name)
	}
	if c := ro.Spec.Strategy.Canary; c != nil && len(c.Steps) > 0 {
		a.StepCount = int32(len(c.Steps))
		a.StepIndex = a.StepCount
		if _, index := argo.CurrentStep(ro); index != nil {
			a.StepIndex = *index
		}
	}
	a.WaitingForPromotion = argo.PausedAtStep(ro) || (a.Phase == argo.PhasePaused && !ro.Spec.Paused)
	return a
}

// decideArgoPhase maps argo's phase to ours, in DESIGN.md §4's order: spec.paused is
// Halted; an abort is Degraded with argo's message (it names the failing metric); the
// progress deadline is Failed; failing canary pods are Degraded as for a Deployment; a
// rollout waiting for a promote is Paused; Healthy is Complete.
func decideArgoPhase(ro *argo.Rollout, r *Rollout, now time.Time, clock *graceClock) (Phase, safetext.Text) {
	a := r.Argo
	failing := summarizeFailing(currentArgoRevision(ro, r), now, clock)
	var at safetext.Text
	if a.StepCount > 0 {
		at = safetext.Sprintf(" at step %d/%d (weight %d%%, actual %d%%)", a.StepIndex, a.StepCount, a.SetWeight, a.ActualWeight)
	}
	withFailing := func(why safetext.Text) safetext.Text {
		if failing != "" {
			return why + "; " + failing
		}
		return why
	}
	switch {
	case ro.Spec.Paused:
		return PhaseHalted, withFailing("halted" + at + " (spec.paused): promote to continue")
	case a.Aborted:
		why := a.Message
		if why == "" {
			why = "aborted: traffic is back on the stable revision"
		}
		return PhaseDegraded, why + ": retry (p) to roll out again, or undo (r)"
	case progressDeadlineExceeded(ro):
		return PhaseFailed, withFailing(a.Message)
	case a.Phase == argo.PhaseDegraded:
		return PhaseDegraded, withFailing(a.Message)
	case failing != "":
		return PhaseDegraded, failing
	case argo.PausedAtStep(ro):
		return PhasePaused, "paused" + at + ": promote to continue"
	case a.Phase == argo.PhasePaused:
		return PhasePaused, "paused" + at + " (" + a.Message + "): promote to continue"
	case a.Phase == argo.PhaseHealthy:
		return PhaseComplete, safetext.Sprintf("%d/%d available on revision %d", r.Replicas.Available, r.Replicas.Desired, r.CanaryRevision)
	default:
		why := a.Message
		if at != "" {
			why = at[1:] + ": " + why
		}
		return PhaseProgressing, why
	}
}

// currentArgoRevision is the revision whose pods are judged: the canary (preview), or on a
// settled blueGreen, where both services select the current revision and its role is
// active, that revision, as a settled Deployment's current revision is.
func currentArgoRevision(ro *argo.Rollout, r *Rollout) *Revision {
	if canary := r.Canary(); canary != nil || ro.Status.CurrentPodHash == "" {
		return canary
	}
	for i := range r.Revisions {
		if r.Revisions[i].PodTemplateHash == ro.Status.CurrentPodHash {
			return &r.Revisions[i]
		}
	}
	return nil
}

// progressDeadlineExceeded: argo's Progressing condition with reason ProgressDeadlineExceeded.
func progressDeadlineExceeded(ro *argo.Rollout) bool {
	for _, c := range ro.Status.Conditions {
		if c.Type == "Progressing" {
			return c.Reason == "ProgressDeadlineExceeded"
		}
	}
	return false
}
