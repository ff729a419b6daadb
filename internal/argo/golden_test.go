package argo

import (
	"strconv"
	"strings"
	"testing"
)

// TestArgoPluginGolden reads argo's own test objects (testdata/argo-v1.10.1) and expects what
// argo's plugin prints for them in pkg/kubectl-argo-rollouts/cmd/get/get_test.go (Status,
// Message, Step, SetWeight, ActualWeight) and info_test.go (the weights of
// canary-rollout5/6; argo prints no phase for those two, the one expected is the same
// ProgressDeadlineExceeded condition as canary-rollout's). canaryAvailable is status.availableReplicas of the ReplicaSet of
// status.currentPodHash in the same testdata directory.
func TestArgoPluginGolden(t *testing.T) {
	tests := []struct {
		file            string
		canaryAvailable int32
		phase           Phase
		message         string
		step            string // argo's "Step:" ("" when it prints none)
		setWeight       string // "" for blueGreen (argo prints no weights)
		actualWeight    string
	}{
		{
			file:  "canary_canary-rollout.json", // TestGetCanaryRollout
			phase: PhaseDegraded, message: `ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.`,
			step: "0/8", setWeight: "20", actualWeight: "0",
		},
		{
			file: "experiment-analysis_rollout-experiment-analysis.json", canaryAvailable: 1, // TestExperimentRollout
			phase: PhaseDegraded, message: `ProgressDeadlineExceeded: ReplicaSet "rollout-experiment-analysis-6f646bf7b7" has timed out progressing.`,
			step: "1/2", setWeight: "25", actualWeight: "25",
		},
		{
			file:  "experiment-step_canary-demo.json", // TestGetRolloutWithExperimentJob
			phase: PhaseProgressing, message: "more replicas need to be updated",
			step: "0/1", setWeight: "0", actualWeight: "0",
		},
		{
			file:  "rollout-invalid_rollout-invalid.json", // TestGetInvalidRollout
			phase: PhaseDegraded,
			message: `InvalidSpec: The Rollout "rollout-invalid" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"doesnt-match"}: ` +
				"`selector`" + ` does not match template ` + "`labels`",
			step: "", setWeight: "100", actualWeight: "100",
		},
		{
			file:  "rollout-aborted_rollout.json", // TestGetAbortedRollout
			phase: PhaseDegraded, message: `RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)`,
			step: "0/2", setWeight: "0", actualWeight: "0",
		},
		{
			file:  "blue-green_bluegreen-rollout.json", // TestGetBlueGreenRollout
			phase: PhasePaused, message: "BlueGreenPause",
		},
		{
			file:  "canary_canary-rollout5.json", // TestCanaryRolloutInfoWeights: status.canary.weights
			phase: PhaseDegraded, message: `ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.`,
			step: "0/8", setWeight: "20", actualWeight: "20",
		},
		{
			file:  "canary_canary-rollout6.json", // TestCanaryRolloutInfoWeights: no weights, SetWeight
			phase: PhaseDegraded, message: `ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.`,
			step: "0/8", setWeight: "20", actualWeight: "20",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ro := &Rollout{}
			readJSON(t, "argo-v1.10.1/"+tt.file, ro)
			phase, message := RolloutPhase(ro)
			if phase != tt.phase || message != tt.message {
				t.Errorf("RolloutPhase = %q, %q\nwant %q, %q", phase, message, tt.phase, tt.message)
			}
			if ro.Spec.Strategy.Canary == nil {
				return
			}
			step, _, _ := strings.Cut(StepLabel(ro), " ")
			if step != tt.step {
				t.Errorf("Step = %q, want %q", step, tt.step)
			}
			if got := strconv.Itoa(int(SetWeight(ro))); got != tt.setWeight {
				t.Errorf("SetWeight = %s, want %s", got, tt.setWeight)
			}
			if got := strconv.Itoa(int(ActualWeight(ro, tt.canaryAvailable))); got != tt.actualWeight {
				t.Errorf("ActualWeight = %s, want %s", got, tt.actualWeight)
			}
		})
	}
}
