package argo

// This file is the package's surface as the rest of kubectl-pyroll uses it. The bodies
// are stubs until the ported rules land (see the files beside it).

import "errors"

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
// falling back to CalculateRolloutPhase when the controller wrote no phase.
func RolloutPhase(ro *Rollout) (Phase, string) { return "", "" }

// CurrentStep is argo's GetCurrentCanaryStep: the step being run and its index; index ==
// len(steps) once every step is done; (nil, nil) without a canary strategy or steps.
func CurrentStep(ro *Rollout) (*CanaryStep, *int32) { return nil, nil }

// StepString is argo's CanaryStepString: "setWeight: 20", "pause: 30s", "pause", "analysis: error-rate", ...
func StepString(s CanaryStep) string { return "" }

// SetWeight is argo's GetCurrentSetWeight: the weight the steps ask for now (100 when promoted).
func SetWeight(ro *Rollout) int32 { return 0 }

// ActualWeight is the weight argo's plugin shows as "ActualWeight": the traffic router's
// weight with traffic routing, else the canary's share of available pods.
func ActualWeight(ro *Rollout, canaryAvailable int32) int32 { return 0 }

// Revisions are the pod template hashes the rollout's roles point at: Canary/Stable for a
// canary (status.currentPodHash, status.stableRS), Preview/Active for blueGreen.
type Revisions struct {
	Strategy        string // "canary" or "blueGreen"
	Canary, Stable  string
	Preview, Active string
}

// RevisionsOf reads the roles' pod template hashes.
func RevisionsOf(ro *Rollout) Revisions { return Revisions{} }

// Aborted reports whether the rollout was aborted (status.abort).
func Aborted(ro *Rollout) bool { return false }

// PausedAtStep reports an indefinite canary pause (a CanaryPauseStep pause condition on a
// pause step without duration): "promote to continue".
func PausedAtStep(ro *Rollout) bool { return false }

// Patch is one merge patch; Subresource is "" (the spec) or "status".
type Patch struct {
	Subresource string
	Body        []byte
}

// Plan is what an action on a Rollout sends, in order, and what it does in one line.
type Plan struct {
	Patches []Patch
	Effect  string
}

// ErrAborted: promote does nothing on an aborted rollout; retry instead.
var ErrAborted = errors.New("the rollout was aborted: promote does nothing until it is retried")

// ErrFullyPromoted: nothing to promote.
var ErrFullyPromoted = errors.New("the rollout is fully promoted: nothing to promote")

// PlanPromote is argo's promote (getPatches' default branch): unpause, clear pause
// conditions, the inconclusive-analysis and mid-analysis cases.
func PlanPromote(ro *Rollout) (Plan, error) { return Plan{}, nil }

// PlanPromoteFull is argo's promote --full; never sent when stable == current.
func PlanPromoteFull(ro *Rollout) (Plan, error) { return Plan{}, nil }

// PlanAbort is argo's abort: status.abort=true, traffic back to stable at once.
func PlanAbort(ro *Rollout) Plan { return Plan{} }

// PlanRetry is argo's retry of an aborted rollout: status.abort=false.
func PlanRetry(ro *Rollout) (Plan, error) { return Plan{}, nil }

// MetricView is one analysis metric as the detail shows it.
type MetricView struct {
	Name     string   `json:"name"`
	Phase    string   `json:"phase"`
	Provider string   `json:"provider,omitempty"`
	Values   []string `json:"values,omitempty"` // last measured values, oldest first (at most 3)
	// SuccessCondition, FailureCondition as written in the template.
	SuccessCondition  string `json:"successCondition,omitempty"`
	FailureCondition  string `json:"failureCondition,omitempty"`
	Count             int32  `json:"count"`
	Successful        int32  `json:"successful"`
	Failed            int32  `json:"failed"`
	Inconclusive      int32  `json:"inconclusive"`
	Errors            int32  `json:"errors"`
	FailureLimit      int32  `json:"failureLimit"`
	InconclusiveLimit int32  `json:"inconclusiveLimit"`
	Message           string `json:"message,omitempty"`
}

// String is one line: "error-rate: 0.052 (last 3: 0.048 0.051 0.052) fails `result[0] < 0.01` 2/2 failureLimit 1".
func (m MetricView) String() string { return "" }

// AnalysisView is one AnalysisRun as the detail shows it.
type AnalysisView struct {
	Name    string       `json:"name"`
	Type    string       `json:"type,omitempty"` // Step, Background, PrePromotion, PostPromotion
	Phase   string       `json:"phase"`
	Message string       `json:"message,omitempty"`
	Metrics []MetricView `json:"metrics"`
}

// AnalysesOf are the AnalysisRuns of the rollout's revision with the given pod template
// hash, newest first.
func AnalysesOf(ro *Rollout, runs []*AnalysisRun, podHash string) []AnalysisView { return nil }
