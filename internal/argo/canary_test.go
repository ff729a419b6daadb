package argo

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func rawJSON(s string) *json.RawMessage {
	r := json.RawMessage(s)
	return &r
}

// newRollout is argo's newRollout of utils/replicaset/canary_test.go (one setWeight step).
func newRollout(specReplicas, setWeight int32, currentPodHash, stablePodHash string, trafficRouting *json.RawMessage) *Rollout {
	maxSurge, maxUnavailable := intstr.FromInt32(0), intstr.FromInt32(1)
	return &Rollout{
		Spec: RolloutSpec{
			Replicas: &specReplicas,
			Strategy: RolloutStrategy{Canary: &CanaryStrategy{
				MaxSurge:       &maxSurge,
				MaxUnavailable: &maxUnavailable,
				Steps:          []CanaryStep{{SetWeight: &setWeight}},
				TrafficRouting: trafficRouting,
			}},
		},
		Status: RolloutStatus{StableRS: stablePodHash, CurrentPodHash: currentPodHash},
	}
}

// argo: TestGetCurrentCanaryStep, plus the index defaulting to 0 and blueGreen.
func TestCurrentStep(t *testing.T) {
	ro := newRollout(10, 10, "", "", nil)
	ro.Spec.Strategy.Canary.Steps = nil
	if step, idx := CurrentStep(ro); step != nil || idx != nil {
		t.Errorf("no steps: got %v, %v; want nil, nil", step, idx)
	}

	ro.Spec.Strategy.Canary.Steps = []CanaryStep{{Pause: &RolloutPause{}}}
	ro.Status.CurrentStepIndex = ptr.To[int32](0)
	step, idx := CurrentStep(ro)
	if step == nil || step.Pause == nil || idx == nil || *idx != 0 {
		t.Errorf("index 0: got %v, %v; want the pause step, 0", step, idx)
	}

	ro.Status.CurrentStepIndex = ptr.To[int32](1)
	step, idx = CurrentStep(ro)
	if step != nil || idx == nil || *idx != 1 {
		t.Errorf("past the last step: got %v, %v; want nil, 1", step, idx)
	}

	ro.Status.CurrentStepIndex = nil
	step, idx = CurrentStep(ro)
	if step == nil || idx == nil || *idx != 0 {
		t.Errorf("no currentStepIndex: got %v, %v; want step 0", step, idx)
	}

	if step, idx := CurrentStep(newBlueGreenRollout()); step != nil || idx != nil {
		t.Errorf("blueGreen: got %v, %v; want nil, nil", step, idx)
	}
}

// argo: TestGetCurrentSetWeight, plus the walk back to an earlier setWeight and maxTrafficWeight.
func TestSetWeight(t *testing.T) {
	stepIndex := int32(1)
	ro := newRollout(10, 10, "", "", nil)
	ro.Status.CurrentStepIndex = &stepIndex
	if got := SetWeight(ro); got != 100 {
		t.Errorf("past the last step: %d, want 100", got)
	}
	stepIndex = 0
	if got := SetWeight(ro); got != 10 {
		t.Errorf("at setWeight 10: %d, want 10", got)
	}
	ro.Status.Abort = true
	if got := SetWeight(ro); got != 0 {
		t.Errorf("aborted: %d, want 0", got)
	}

	ro = newCanaryRollout() // setWeight 10, pause 60, setWeight 20
	ro.Status.CurrentStepIndex = ptr.To[int32](1)
	if got := SetWeight(ro); got != 10 {
		t.Errorf("at the pause after setWeight 10: %d, want 10", got)
	}
	ro.Spec.Strategy.Canary.Steps[0] = CanaryStep{Analysis: &RolloutAnalysis{}}
	if got := SetWeight(ro); got != 0 {
		t.Errorf("no setWeight yet: %d, want 0", got)
	}
	ro.Spec.Strategy.Canary.TrafficRouting = rawJSON(`{"maxTrafficWeight":1000,"nginx":{"stableIngress":"x"}}`)
	ro.Status.CurrentStepIndex = ptr.To[int32](3)
	if got := SetWeight(ro); got != 1000 {
		t.Errorf("past the last step with maxTrafficWeight 1000: %d, want 1000", got)
	}
	if got := SetWeight(newBlueGreenRollout()); got != 100 {
		t.Errorf("blueGreen: %d, want 100 (argo returns the maximum without a current step)", got)
	}
}

func TestMaxTrafficWeight(t *testing.T) {
	tests := []struct {
		tr   *json.RawMessage
		want int32
	}{
		{nil, 100},
		{rawJSON(`{"nginx":{"stableIngress":"x"}}`), 100},
		{rawJSON(`{"maxTrafficWeight":1000}`), 1000},
		{rawJSON(`not json`), 100},
	}
	for _, tt := range tests {
		ro := newRollout(4, 20, "", "", tt.tr)
		if got := maxTrafficWeight(ro); got != tt.want {
			t.Errorf("maxTrafficWeight(%v) = %d, want %d", tt.tr, got, tt.want)
		}
	}
}

// ActualWeight follows argo's info.NewRolloutInfo; golden_test.go checks it on argo's own
// objects against what argo's plugin prints.
func TestActualWeight(t *testing.T) {
	routed := rawJSON(`{"smi":{"rootService":"root-svc"}}`)
	tests := []struct {
		name            string
		ro              func() *Rollout
		canaryAvailable int32
		want            int32
	}{
		{"basic canary: share of available pods", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.CurrentStepIndex = ptr.To[int32](0)
			ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
			ro.Status.AvailableReplicas = 4
			return ro
		}, 1, 25},
		{"basic canary: integer division as argo", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
			ro.Status.AvailableReplicas = 6
			return ro
		}, 1, 16},
		{"basic canary: half the available pods", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
			ro.Status.AvailableReplicas = 4
			return ro
		}, 2, 50},
		{"basic canary: no available replicas", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
			ro.Status.AvailableReplicas = 0
			return ro
		}, 1, 0},
		{"basic canary: current is stable (no canary ReplicaSet)", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.CurrentPodHash, ro.Status.StableRS = "same", "same"
			ro.Status.AvailableReplicas = 4
			return ro
		}, 4, 0},
		{"past the last step: the maximum", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.CurrentStepIndex = ptr.To[int32](3)
			ro.Status.AvailableReplicas = 0
			return ro
		}, 0, 100},
		{"no steps: the maximum", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Strategy.Canary.Steps = nil
			return ro
		}, 0, 100},
		{"traffic routing: the router's weight", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Strategy.Canary.TrafficRouting = routed
			ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
			ro.Status.Canary.Weights = &TrafficWeights{Canary: WeightDestination{Weight: 7}, Stable: WeightDestination{Weight: 93}}
			return ro
		}, 4, 7},
		{"traffic routing without weights: SetWeight", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Strategy.Canary.TrafficRouting = routed
			ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
			return ro
		}, 4, 10},
		{"traffic routing, no available replicas", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Strategy.Canary.TrafficRouting = routed
			ro.Status.AvailableReplicas = 0
			ro.Status.Canary.Weights = &TrafficWeights{Canary: WeightDestination{Weight: 7}}
			return ro
		}, 0, 0},
		{"blueGreen: none", newBlueGreenRollout, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ActualWeight(tt.ro(), tt.canaryAvailable); got != tt.want {
				t.Errorf("ActualWeight = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSteps(t *testing.T) {
	ro := newCanaryRollout() // setWeight 10, pause 60, setWeight 20 at index 1
	want := []StepView{
		{Index: 0, Text: "setWeight: 10", Done: true},
		{Index: 1, Text: "pause: 60", Current: true},
		{Index: 2, Text: "setWeight: 20"},
	}
	if got := Steps(ro); !reflect.DeepEqual(got, want) {
		t.Errorf("Steps = %+v\nwant %+v", got, want)
	}
	ro.Status.CurrentStepIndex = ptr.To[int32](3)
	for _, s := range Steps(ro) {
		if !s.Done || s.Current {
			t.Errorf("all steps done: %+v", s)
		}
	}
	ro.Status.CurrentStepIndex = nil
	if got := Steps(ro); !got[0].Current || got[0].Done {
		t.Errorf("no currentStepIndex is step 0: %+v", got[0])
	}
	if got := Steps(newBlueGreenRollout()); got != nil {
		t.Errorf("blueGreen: %+v, want nil", got)
	}
}

func TestStepLabel(t *testing.T) {
	ro := newCanaryRollout()
	if got := StepLabel(ro); got != "1/3 10%" {
		t.Errorf("StepLabel = %q, want argo's index %q", got, "1/3 10%")
	}
	ro.Status.CurrentStepIndex = ptr.To[int32](3)
	if got := StepLabel(ro); got != "3/3 100%" {
		t.Errorf("done: %q", got)
	}
	ro.Spec.Strategy.Canary.TrafficRouting = rawJSON(`{"maxTrafficWeight":1000}`)
	if got := StepLabel(ro); got != "3/3 1000/1000" {
		t.Errorf("maxTrafficWeight 1000: %q", got)
	}
	ro.Status.CurrentStepIndex = nil
	if got := StepLabel(ro); got != "" {
		t.Errorf("no currentStepIndex (argo shows no Step): %q", got)
	}
	if got := StepLabel(newBlueGreenRollout()); got != "" {
		t.Errorf("blueGreen: %q", got)
	}
}

func TestPausedAtStep(t *testing.T) {
	indefinite := func() *Rollout {
		ro := newCanaryRollout()
		ro.Spec.Strategy.Canary.Steps[1].Pause.Duration = nil
		ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonCanaryPauseStep}}
		ro.Status.ControllerPause = true
		return ro
	}
	if !PausedAtStep(indefinite()) {
		t.Error("pause {} with a CanaryPauseStep condition: want true")
	}
	timed := indefinite()
	timed.Spec.Strategy.Canary.Steps[1].Pause.Duration = ptr.To(intstr.FromString("10m"))
	if PausedAtStep(timed) {
		t.Error("timed pause: want false (it resumes by itself)")
	}
	noCond := indefinite()
	noCond.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonInconclusiveAnalysis}}
	if PausedAtStep(noCond) {
		t.Error("no CanaryPauseStep condition: want false")
	}
	notPause := indefinite()
	notPause.Status.CurrentStepIndex = ptr.To[int32](0)
	if PausedAtStep(notPause) {
		t.Error("current step is setWeight: want false")
	}
	done := indefinite()
	done.Status.CurrentStepIndex = ptr.To[int32](3)
	if PausedAtStep(done) {
		t.Error("past the last step: want false")
	}
}

func TestRevisionsOf(t *testing.T) {
	ro := newCanaryRollout()
	ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
	if got, want := RevisionsOf(ro), (Revisions{Strategy: "canary", Canary: "new", Stable: "old"}); got != want {
		t.Errorf("canary: %+v, want %+v", got, want)
	}
	bg := newBlueGreenRollout()
	bg.Status.CurrentPodHash, bg.Status.StableRS = "new", "old"
	bg.Status.BlueGreen.PreviewSelector, bg.Status.BlueGreen.ActiveSelector = "new", "old"
	if got, want := RevisionsOf(bg), (Revisions{Strategy: "blueGreen", Canary: "new", Stable: "old", Preview: "new", Active: "old"}); got != want {
		t.Errorf("blueGreen: %+v, want %+v", got, want)
	}
	bg.Status.BlueGreen.PreviewSelector = ""
	bg.Status.CurrentPodHash = "newer"
	if got, want := RevisionsOf(bg), (Revisions{Strategy: "blueGreen", Canary: "newer", Stable: "old", Active: "old"}); got != want {
		t.Errorf("blueGreen without preview: %+v, want %+v", got, want)
	}
	if got := RevisionsOf(&Rollout{}); got != (Revisions{}) {
		t.Errorf("no strategy: %+v", got)
	}
}

func TestAborted(t *testing.T) {
	ro := newCanaryRollout()
	if Aborted(ro) {
		t.Error("not aborted")
	}
	ro.Status.Abort = true
	if !Aborted(ro) {
		t.Error("aborted")
	}
}
