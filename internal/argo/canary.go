package argo

import (
	"encoding/json"
	"fmt"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// This file ports argo-rollouts v1.10.1 utils/replicaset/canary.go (the current step and the
// weight it asks for), utils/rollout.CanaryStepString and the weights of
// pkg/kubectl-argo-rollouts/info/rollout_info.go.

// currentCanaryStep follows argo: utils/replicaset.GetCurrentCanaryStep. A missing
// currentStepIndex is step 0; past the last step the step is nil but the index is returned.
func currentCanaryStep(ro *Rollout) (*CanaryStep, *int32) {
	if ro.Spec.Strategy.Canary == nil || len(ro.Spec.Strategy.Canary.Steps) == 0 {
		return nil, nil
	}
	currentStepIndex := int32(0)
	if ro.Status.CurrentStepIndex != nil {
		currentStepIndex = *ro.Status.CurrentStepIndex
	}
	if len(ro.Spec.Strategy.Canary.Steps) <= int(currentStepIndex) {
		return nil, &currentStepIndex
	}
	return &ro.Spec.Strategy.Canary.Steps[currentStepIndex], &currentStepIndex
}

// currentSetWeight follows argo: utils/replicaset.GetCurrentSetWeight: the last setWeight at
// or before the current step; 0 when aborted; the maximum weight past the last step.
func currentSetWeight(ro *Rollout) int32 {
	if ro.Status.Abort {
		return 0
	}
	currentStep, currentStepIndex := currentCanaryStep(ro)
	if currentStep == nil {
		return maxTrafficWeight(ro)
	}
	for i := *currentStepIndex; i >= 0; i-- {
		if w := ro.Spec.Strategy.Canary.Steps[i].SetWeight; w != nil {
			return *w
		}
	}
	return 0
}

// maxTrafficWeight follows argo: utils/weightutil.MaxTrafficWeight: 100 unless the traffic
// routing sets maxTrafficWeight (weights are then out of that total).
func maxTrafficWeight(ro *Rollout) int32 {
	c := ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil {
		return defaultMaxTrafficWeight
	}
	var tr struct {
		MaxTrafficWeight *int32 `json:"maxTrafficWeight,omitempty"`
	}
	if json.Unmarshal(*c.TrafficRouting, &tr) != nil || tr.MaxTrafficWeight == nil {
		return defaultMaxTrafficWeight
	}
	return *tr.MaxTrafficWeight
}

// actualWeight follows the ActualWeight of argo: pkg/kubectl-argo-rollouts/info.NewRolloutInfo.
// Without traffic routing argo divides the available pods of the ReplicaSet it marks Canary
// (the one whose hash is status.currentPodHash and is not status.stableRS, see
// info.GetReplicaSetInfo) by status.availableReplicas; when there is no such ReplicaSet the
// weight stays 0.
func actualWeight(ro *Rollout, canaryAvailable int32) int32 {
	c := ro.Spec.Strategy.Canary
	if c == nil {
		return 0
	}
	currentStep, _ := currentCanaryStep(ro)
	switch {
	case currentStep == nil:
		return maxTrafficWeight(ro)
	case ro.Status.AvailableReplicas <= 0:
		return 0
	case c.TrafficRouting == nil:
		if ro.Status.CurrentPodHash == "" || ro.Status.CurrentPodHash == ro.Status.StableRS {
			return 0 // argo marks that ReplicaSet Stable, not Canary
		}
		// maxTrafficWeight is always 100 without traffic routing; argo writes it anyway.
		return canaryAvailable * maxTrafficWeight(ro) / ro.Status.AvailableReplicas
	case ro.Status.Canary.Weights != nil:
		return ro.Status.Canary.Weights.Canary.Weight
	default:
		return currentSetWeight(ro)
	}
}

// canaryStepString follows argo: utils/rollout.CanaryStepString.
func canaryStepString(c CanaryStep) string {
	if c.SetWeight != nil {
		return fmt.Sprintf("setWeight: %d", *c.SetWeight)
	}
	if c.Pause != nil {
		str := "pause"
		if c.Pause.Duration != nil {
			str = fmt.Sprintf("%s: %s", str, c.Pause.Duration.String())
		}
		return str
	}
	if c.Experiment != nil {
		return "experiment"
	}
	if c.Analysis != nil {
		return "analysis"
	}
	if c.SetCanaryScale != nil {
		if c.SetCanaryScale.Weight != nil {
			return fmt.Sprintf("setCanaryScale{weight: %d}", *c.SetCanaryScale.Weight)
		} else if c.SetCanaryScale.MatchTrafficWeight {
			return "setCanaryScale{matchTrafficWeight: true}"
		} else if c.SetCanaryScale.Replicas != nil {
			return fmt.Sprintf("setCanaryScale{replicas: %d}", *c.SetCanaryScale.Replicas)
		}
	}
	if c.Plugin != nil {
		return fmt.Sprintf("plugin: %s", rawName(c.Plugin))
	}
	if c.SetHeaderRoute != nil {
		return fmt.Sprintf("setHeaderRoute: %s", rawName(c.SetHeaderRoute))
	}
	if c.SetMirrorRoute != nil {
		return fmt.Sprintf("setMirrorRoute: %s", rawName(c.SetMirrorRoute))
	}
	return "invalid"
}

// rawName is the "name" of a step kept raw (argo's PluginStep, SetHeaderRoute and
// SetMirrorRoute all have one).
func rawName(raw *json.RawMessage) string {
	var named struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(*raw, &named) // a malformed step shows with an empty name, as argo's would
	return named.Name
}

// pausedAtStep: the controller paused at the current step (CanaryPauseStep) and that step is
// a pause without duration, so only a promote moves it on (argo: rollout/pause.go and
// canary.go's completedCurrentCanaryStep resume a timed pause by themselves).
func pausedAtStep(ro *Rollout) bool {
	step, _ := currentCanaryStep(ro)
	if step == nil || step.Pause == nil || step.Pause.Duration != nil {
		return false
	}
	for _, c := range ro.Status.PauseConditions {
		if c.Reason == PauseReasonCanaryPauseStep {
			return true
		}
	}
	return false
}

// steps lists the canary's steps against status.currentStepIndex.
func steps(ro *Rollout) []StepView {
	if ro.Spec.Strategy.Canary == nil || len(ro.Spec.Strategy.Canary.Steps) == 0 {
		return nil
	}
	_, idx := currentCanaryStep(ro)
	out := make([]StepView, len(ro.Spec.Strategy.Canary.Steps))
	for i, s := range ro.Spec.Strategy.Canary.Steps {
		out[i] = StepView{
			Index:   int32(i),
			Text:    safetext.Line(canaryStepString(s)),
			Current: int32(i) == *idx,
			Done:    int32(i) < *idx,
		}
	}
	return out
}

// stepLabel follows the Step of argo: pkg/kubectl-argo-rollouts/info.NewRolloutInfo
// ("%d/%d" of currentStepIndex and the step count, shown only when both are there), followed
// by the weight the steps ask for.
func stepLabel(ro *Rollout) string {
	c := ro.Spec.Strategy.Canary
	if c == nil || ro.Status.CurrentStepIndex == nil || len(c.Steps) == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d %s", *ro.Status.CurrentStepIndex, len(c.Steps), weightString(ro, currentSetWeight(ro)))
}

// weightString is a weight as a percentage, or out of maxTrafficWeight when the traffic
// routing counts in another total (a weight of 200 out of 1000 is not "200%").
func weightString(ro *Rollout, w int32) string {
	if total := maxTrafficWeight(ro); total != defaultMaxTrafficWeight {
		return fmt.Sprintf("%d/%d", w, total)
	}
	return fmt.Sprintf("%d%%", w)
}
