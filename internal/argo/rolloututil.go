package argo

import (
	"fmt"
	"strconv"
)

// This file ports argo-rollouts v1.10.1 utils/rollout/rolloututil.go: the phase and message
// its controller writes and its plugin shows, so that a rollout reads the same here as in
// `kubectl argo rollouts get`.

// rolloutPhase follows argo: utils/rollout.GetRolloutPhase.
func rolloutPhase(ro *Rollout) (Phase, string) {
	if !isGenerationObserved(ro) {
		return PhaseProgressing, "waiting for rollout spec update to be observed"
	}
	if isUnpausing(ro) {
		return PhaseProgressing, "waiting for rollout to unpause"
	}
	// argo tests spec.TemplateResolvedFromRef, a field its controller sets in memory when it
	// copies the template from the referenced Deployment (json:"-", never on the wire). An
	// object read from the API server has it resolved from the ref exactly when it has a
	// workloadRef.
	if templateResolvedFromRef(ro) && !isWorkloadGenerationObserved(ro) {
		return PhaseProgressing, "waiting for rollout spec update to be observed for the reference workload"
	}
	if ro.Status.Phase != "" {
		// argo 1.0+ controllers write phase and message themselves.
		return Phase(ro.Status.Phase), ro.Status.Message
	}
	// Controllers v0.10 and older wrote none: argo's plugin computes it client side.
	return calculateRolloutPhase(ro)
}

func templateResolvedFromRef(ro *Rollout) bool { return ro.Spec.WorkloadRef != nil }

// isGenerationObserved follows argo: utils/rollout.isGenerationObserved. A non-numeric
// observedGeneration is a v0.9 pod template hash, which says nothing about the generation; a
// numeric one larger than metadata.generation is a v0.9 hash made only of digits.
func isGenerationObserved(ro *Rollout) bool {
	observedGen, err := strconv.Atoi(ro.Status.ObservedGeneration)
	if err != nil {
		return true
	}
	if int64(observedGen) > ro.Generation {
		return true
	}
	return int64(observedGen) == ro.Generation
}

// isUnpausing follows argo: utils/rollout.IsUnpausing: a user cleared the pause conditions
// (a promote) and the controller has not yet reacted by clearing controllerPause.
func isUnpausing(ro *Rollout) bool {
	return ro.Status.ControllerPause && len(ro.Status.PauseConditions) == 0
}

// isWorkloadGenerationObserved follows argo: utils/rollout.isWorkloadGenerationObserved:
// without a parsable annotation or observed generation there is nothing to wait for.
func isWorkloadGenerationObserved(ro *Rollout) bool {
	// argo: utils/annotations.GetWorkloadGenerationAnnotation parses it as an int32.
	workloadGeneration, err := strconv.ParseInt(ro.Annotations[WorkloadGenerationAnnotation], 10, 32)
	if err != nil {
		return true
	}
	observedWorkloadGen, err := strconv.ParseInt(ro.Status.WorkloadObservedGeneration, 10, 32)
	if err != nil {
		return true
	}
	return int32(observedWorkloadGen) == int32(workloadGeneration)
}

// isFullyPromoted follows argo: utils/rollout.IsFullyPromoted: the desired revision is the
// stable one (not in the middle of an update).
func isFullyPromoted(ro *Rollout) bool {
	return ro.Status.StableRS == ro.Status.CurrentPodHash
}

// calculateRolloutPhase follows argo: utils/rollout.CalculateRolloutPhase. The order of the
// checks is argo's and decides which message wins.
func calculateRolloutPhase(ro *Rollout) (Phase, string) {
	for _, cond := range ro.Status.Conditions {
		if cond.Type == ConditionInvalidSpec {
			return PhaseDegraded, fmt.Sprintf("%s: %s", ConditionInvalidSpec, cond.Message)
		}
		switch cond.Reason {
		case ReasonRolloutAborted, ReasonProgressDeadline:
			return PhaseDegraded, fmt.Sprintf("%s: %s", cond.Reason, cond.Message)
		}
	}
	if ro.Spec.Paused {
		return PhasePaused, "manually paused"
	}
	for _, pauseCond := range ro.Status.PauseConditions {
		return PhasePaused, pauseCond.Reason
	}
	if ro.Spec.RestartAt != nil && (ro.Status.RestartedAt == nil || !ro.Spec.RestartAt.Time.Equal(ro.Status.RestartedAt.Time)) {
		return PhaseProgressing, "rollout is restarting"
	}
	if ro.Status.UpdatedReplicas < replicasOrDefault(ro.Spec.Replicas) {
		return PhaseProgressing, "more replicas need to be updated"
	}
	if ro.Status.AvailableReplicas < ro.Status.UpdatedReplicas {
		return PhaseProgressing, "updated replicas are still becoming available"
	}
	if ro.Spec.Strategy.BlueGreen != nil {
		if ro.Status.BlueGreen.ActiveSelector == "" || ro.Status.BlueGreen.ActiveSelector != ro.Status.CurrentPodHash {
			return PhaseProgressing, "active service cutover pending"
		}
		if ro.Status.StableRS == "" || !isFullyPromoted(ro) {
			// The active service selects the desired revision but it is not stable yet:
			// post-promotion analysis or target-group verification is still running.
			if waitingForBlueGreenPostPromotionAnalysis(ro) {
				return PhaseProgressing, "waiting for analysis to complete"
			}
			return PhaseProgressing, "waiting for post-promotion verification to complete"
		}
	} else if ro.Spec.Strategy.Canary != nil {
		// Only a basic canary: blueGreen and traffic-routed canaries keep the old pods for
		// scaleDownDelay, so extra replicas there are not "pending termination".
		if ro.Spec.Strategy.Canary.TrafficRouting == nil && ro.Status.Replicas > ro.Status.UpdatedReplicas {
			return PhaseProgressing, "old replicas are pending termination"
		}
		if ro.Status.StableRS == "" || !isFullyPromoted(ro) {
			return PhaseProgressing, "waiting for all steps to complete"
		}
	}
	return PhaseHealthy, ""
}

// waitingForBlueGreenPostPromotionAnalysis follows argo: utils/rollout.waitingForBlueGreenPostPromotionAnalysis.
func waitingForBlueGreenPostPromotionAnalysis(ro *Rollout) bool {
	if ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis != nil {
		st := ro.Status.BlueGreen.PostPromotionAnalysisRunStatus
		if st == nil || !analysisCompleted(st.Status) {
			return true
		}
	}
	return false
}

// analysisCompleted follows argo: v1alpha1.AnalysisPhase.Completed.
func analysisCompleted(phase string) bool {
	switch phase {
	case AnalysisSuccessful, AnalysisFailed, AnalysisError, AnalysisInconclusive:
		return true
	}
	return false
}

// replicasOrDefault follows argo: utils/defaults.GetReplicasOrDefault.
func replicasOrDefault(replicas *int32) int32 {
	if replicas == nil {
		return defaultReplicas
	}
	return *replicas
}
