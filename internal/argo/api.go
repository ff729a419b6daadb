package argo

// This file is the package's surface as the rest of kubectl-pyroll uses it. The rules are
// ported from argo-rollouts v1.10.1 in the files beside it, each named after the argo source
// it follows: rolloututil.go (phase), canary.go (steps, weights), promote.go (promote,
// abort, retry), analysis.go (AnalysisRuns).

import (
	"errors"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Phase is argo's rollout phase.
type Phase string

// argo's phases.
const (
	PhaseHealthy     Phase = "Healthy"
	PhaseProgressing Phase = "Progressing"
	PhasePaused      Phase = "Paused"
	PhaseDegraded    Phase = "Degraded"
)

// RolloutPhase is argo's GetRolloutPhase: the phase and message its controller and plugin
// show, including the observedGeneration, controllerPause (unpausing) and workloadRef rules,
// falling back to CalculateRolloutPhase when the controller wrote no phase. A Rollout with
// spec.workloadRef counts as argo's TemplateResolvedFromRef (an in-memory field of its
// controller, never on the wire).
func RolloutPhase(ro *Rollout) (Phase, string) { return rolloutPhase(ro) }

// FullyPromoted is argo's IsFullyPromoted: status.stableRS == status.currentPodHash, not in
// the middle of an update. argo's controller drops status.abort on a fully promoted rollout,
// so an abort there does nothing.
func FullyPromoted(ro *Rollout) bool { return isFullyPromoted(ro) }

// CurrentStep is argo's GetCurrentCanaryStep: the step being run and its index; index ==
// len(steps) once every step is done; (nil, nil) without a canary strategy or steps.
func CurrentStep(ro *Rollout) (*CanaryStep, *int32) { return currentCanaryStep(ro) }

// StepString is argo's CanaryStepString: "setWeight: 20", "pause: 30s", "pause",
// "analysis", "experiment", "setCanaryScale{weight: 20}", "plugin: name", ...
func StepString(s CanaryStep) string { return canaryStepString(s) }

// StepView is one canary step as the detail lists it.
type StepView struct {
	Index   int32         `json:"index"`
	Text    safetext.Text `json:"text"`    // StepString
	Current bool          `json:"current"` // the step status.currentStepIndex points at
	Done    bool          `json:"done"`    // before the current step
}

// Steps are the canary's steps against status.currentStepIndex (nil without canary steps).
// Past the last step every step is Done and none is Current.
func Steps(ro *Rollout) []StepView { return steps(ro) }

// StepLabel is argo's plugin "Step" then the weight the steps ask for: "1/4 20%". The number
// is status.currentStepIndex as argo's plugin shows it ("1/4" while running the second step,
// "4/4" when all are done), so users read the same number as in `kubectl argo rollouts get`.
// "" when argo shows no Step (not a canary, no steps, no currentStepIndex yet). With a
// maxTrafficWeight other than 100 the weight reads "200/1000".
func StepLabel(ro *Rollout) string { return stepLabel(ro) }

// SetWeight is argo's GetCurrentSetWeight: the weight the steps ask for now (the maximum
// traffic weight, 100 by default, once promoted; 0 when aborted).
func SetWeight(ro *Rollout) int32 { return currentSetWeight(ro) }

// ActualWeight is the weight argo's plugin shows as "ActualWeight" (canary only, else 0):
// the maximum weight past the last step; with traffic routing the router's
// status.canary.weights (or SetWeight before the controller wrote them); without, the
// canary's share of status.availableReplicas. canaryAvailable is status.availableReplicas of
// the ReplicaSet whose pod template hash is status.currentPodHash (0 when there is none);
// it is not used when that hash is the stable one (argo's plugin has no canary then).
func ActualWeight(ro *Rollout, canaryAvailable int32) int32 { return actualWeight(ro, canaryAvailable) }

// Revisions are the pod template hashes the rollout's roles point at: Canary/Stable for a
// canary (status.currentPodHash, status.stableRS), Preview/Active for blueGreen.
type Revisions struct {
	Strategy        string // "canary" or "blueGreen"
	Canary, Stable  string
	Preview, Active string
}

// RevisionsOf reads the roles' pod template hashes. For blueGreen, Canary is the preview
// (status.currentPodHash while there is no preview selector) and Stable the active one, so
// that a caller comparing "new vs serving" reads both strategies the same way.
func RevisionsOf(ro *Rollout) Revisions {
	switch {
	case ro.Spec.Strategy.Canary != nil:
		return Revisions{Strategy: "canary", Canary: ro.Status.CurrentPodHash, Stable: ro.Status.StableRS}
	case ro.Spec.Strategy.BlueGreen != nil:
		r := Revisions{
			Strategy: "blueGreen",
			Preview:  ro.Status.BlueGreen.PreviewSelector,
			Active:   ro.Status.BlueGreen.ActiveSelector,
		}
		r.Canary, r.Stable = orWord(r.Preview, ro.Status.CurrentPodHash), r.Active
		return r
	}
	return Revisions{}
}

// Aborted reports whether the rollout was aborted (status.abort).
func Aborted(ro *Rollout) bool { return ro.Status.Abort }

// PausedAtStep reports an indefinite canary pause (a CanaryPauseStep pause condition on a
// pause step without duration): "promote to continue".
func PausedAtStep(ro *Rollout) bool { return pausedAtStep(ro) }

// Patch is one JSON merge patch (application/merge-patch+json); Subresource is
// SubresourceSpec ("", the object) or SubresourceStatus ("status").
//
// Body is always a JSON object (argo's own patch string) without metadata, so that the
// caller can merge metadata.resourceVersion into it (WithResourceVersion) and have the API
// server refuse the patch with a Conflict if the rollout changed since it was read.
type Patch struct {
	Subresource string
	Body        []byte
}

// WithResourceVersion is Body with metadata.resourceVersion set to rv.
func (p Patch) WithResourceVersion(rv string) ([]byte, error) { return withResourceVersion(p.Body, rv) }

// Plan is what an action on a Rollout sends, in order, and what it does in one line (for a
// confirmation prompt). The order is argo's: status first, then spec. A status patch that
// changes the object changes its resourceVersion: a guarded spec patch after it must carry
// the resourceVersion the status patch returned, not the one first read.
type Plan struct {
	Patches []Patch
	Effect  string
}

// ErrAborted: promote does nothing on an aborted rollout; retry instead.
var ErrAborted = errors.New("the rollout was aborted: promote does nothing until it is retried")

// ErrFullyPromoted: nothing to promote.
var ErrFullyPromoted = errors.New("the rollout is fully promoted: nothing to promote")

// ErrNothingToPromote: the rollout is neither paused nor at a step a promote skips (a
// blueGreen not paused, a canary without steps, or every step done while the new revision
// becomes available).
var ErrNothingToPromote = errors.New("nothing to promote: the rollout is not paused and has no step to skip")

// ErrNotAborted: retry only applies to an aborted rollout.
var ErrNotAborted = errors.New("the rollout is not aborted: nothing to retry")

// PlanPromote is argo's promote (getPatches' default branch): unpause, clear pause
// conditions, the inconclusive-analysis and mid-analysis cases. ErrAborted on an aborted
// rollout; ErrFullyPromoted or ErrNothingToPromote where argo would send nothing or a
// patch that changes nothing.
func PlanPromote(ro *Rollout) (Plan, error) { return planPromote(ro) }

// PlanPromoteFull is argo's promote --full: status.promoteFull (never sent when stable ==
// current) and an unpause of spec.paused. ErrFullyPromoted when there is neither. On an
// aborted rollout it also lifts the abort (argo's controller does on promoteFull).
func PlanPromoteFull(ro *Rollout) (Plan, error) { return planPromoteFull(ro) }

// PlanAbort is argo's abort: status.abort=true, traffic back to stable at once. It does
// nothing on a FullyPromoted rollout (argo's controller removes the abort there).
func PlanAbort(ro *Rollout) Plan { return planAbort(ro) }

// PlanRetry is argo's retry of an aborted rollout: status.abort=false. ErrNotAborted when
// the rollout is not aborted.
func PlanRetry(ro *Rollout) (Plan, error) { return planRetry(ro) }

// MetricView is one analysis metric as the detail shows it.
//
// Its text comes from the AnalysisRun, which whoever may edit the Rollout or its template
// writes (the values are what a query returned): it is made safe as it is read (safetext).
type MetricView struct {
	Name     safetext.Text   `json:"name"`
	Phase    safetext.Text   `json:"phase"`
	Provider safetext.Text   `json:"provider,omitempty"`
	Values   []safetext.Text `json:"values,omitempty"` // last measured values, oldest first (at most 3), a one-element vector "[0.05]" as "0.05"
	// LastPhase is the last measurement's phase (what the conditions said of it); "" before
	// the first measurement.
	LastPhase safetext.Text `json:"lastPhase,omitempty"`
	// SuccessCondition, FailureCondition as written in the template.
	SuccessCondition safetext.Text `json:"successCondition,omitempty"`
	FailureCondition safetext.Text `json:"failureCondition,omitempty"`
	Count            int32         `json:"count"`
	Successful       int32         `json:"successful"`
	Failed           int32         `json:"failed"`
	Inconclusive     int32         `json:"inconclusive"`
	Errors           int32         `json:"errors"`
	// FailureLimit and InconclusiveLimit as argo applies them (0 when unset; a negative
	// failureLimit is not applied).
	FailureLimit      int32 `json:"failureLimit"`
	InconclusiveLimit int32 `json:"inconclusiveLimit"`
	// DryRun: the metric's result does not count towards the run's.
	DryRun  bool          `json:"dryRun,omitempty"`
	Message safetext.Text `json:"message,omitempty"` // the result's message, else the last failed or errored measurement's
}

// String is one line: "error-rate: 0.052 (last 3: 0.048 0.051 0.052) fails `result[0] < 0.01`
// 2/2 failureLimit 1": the last value, the last values when more than one, how the last
// measurement was judged, failed/count, the failure limit, then " inconclusive i/limit",
// " errors n" and " - message" when there are any. Before any measurement: "error-rate: no
// measurement yet, passes when `result[0] < 0.01`".
func (m MetricView) String() string { return string(metricString(m)) }

// Text is String as a safetext.Text.
func (m MetricView) Text() safetext.Text { return metricString(m) }

// AnalysisView is one AnalysisRun as the detail shows it.
type AnalysisView struct {
	Name    string        `json:"name"`
	Type    safetext.Text `json:"type,omitempty"` // Step, Background, PrePromotion, PostPromotion
	Phase   safetext.Text `json:"phase"`
	Message safetext.Text `json:"message,omitempty"`
	Metrics []MetricView  `json:"metrics"` // in the order of spec.metrics
}

// AnalysesOf are the AnalysisRuns of the rollout's revision with the given pod template
// hash (label rollouts-pod-template-hash) owned by the rollout (an ownerReference of kind
// Rollout with its UID), newest first.
func AnalysesOf(ro *Rollout, runs []*AnalysisRun, podHash string) []AnalysisView {
	return analysesOf(ro, runs, podHash)
}
