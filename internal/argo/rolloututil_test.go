package argo

import (
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The cases of this file are argo-rollouts v1.10.1 utils/rollout/rolloututil_test.go, same
// inputs and same expected phase and message, plus the branches argo's file leaves untested.

// newCanaryRollout is argo's newCanaryRollout (utils/rollout/rolloututil_test.go).
func newCanaryRollout() *Rollout {
	return &Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "can-guestbook", Namespace: "test"},
		Spec: RolloutSpec{
			Replicas: ptr.To[int32](5),
			Strategy: RolloutStrategy{Canary: &CanaryStrategy{Steps: []CanaryStep{
				{SetWeight: ptr.To[int32](10)},
				{Pause: &RolloutPause{Duration: ptr.To(intstr.FromInt32(60))}},
				{SetWeight: ptr.To[int32](20)},
			}}},
		},
		Status: RolloutStatus{
			CurrentStepIndex:  ptr.To[int32](1),
			Replicas:          4,
			ReadyReplicas:     1,
			UpdatedReplicas:   3,
			AvailableReplicas: 2,
		},
	}
}

// newBlueGreenRollout is argo's newBlueGreenRollout.
func newBlueGreenRollout() *Rollout {
	return &Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "bg-guestbook", Namespace: "test"},
		Spec: RolloutSpec{
			Replicas: ptr.To[int32](5),
			Strategy: RolloutStrategy{BlueGreen: &BlueGreenStrategy{}},
		},
		Status: RolloutStatus{
			CurrentStepIndex:  ptr.To[int32](1),
			Replicas:          4,
			ReadyReplicas:     1,
			UpdatedReplicas:   3,
			AvailableReplicas: 2,
		},
	}
}

func setWorkloadGeneration(ro *Rollout, gen string) {
	if ro.Annotations == nil {
		ro.Annotations = map[string]string{}
	}
	ro.Annotations[WorkloadGenerationAnnotation] = gen
}

func TestRolloutPhase(t *testing.T) {
	oneMinuteAgo := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	later := metav1.NewTime(oneMinuteAgo.Add(time.Minute))
	healthyCanary := func(ro *Rollout) {
		ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas, ro.Status.ReadyReplicas = 5, 5, 5, 5
		ro.Status.StableRS, ro.Status.CurrentPodHash = "abc1234", "abc1234"
	}
	tests := []struct {
		name    string
		ro      func() *Rollout
		phase   Phase
		message string
	}{
		// argo: TestRolloutStatusDegraded
		{"degraded: progress deadline exceeded", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.Conditions = append(ro.Status.Conditions, RolloutCondition{
				Type: ConditionProgressing, Reason: "ProgressDeadlineExceeded", Message: "timed out",
			})
			return ro
		}, PhaseDegraded, "ProgressDeadlineExceeded: timed out"},
		// argo: TestRolloutStatusPaused
		{"manually paused", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Paused = true
			return ro
		}, PhasePaused, "manually paused"},
		// argo: TestRolloutStatusProgressing
		{"more replicas need to be updated", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Replicas = ptr.To[int32](5)
			ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas, ro.Status.Replicas = 4, 4, 5
			return ro
		}, PhaseProgressing, "more replicas need to be updated"},
		{"updated replicas still becoming available", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Replicas = ptr.To[int32](5)
			ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas, ro.Status.Replicas = 5, 4, 5
			return ro
		}, PhaseProgressing, "updated replicas are still becoming available"},
		{"old replicas pending termination", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Replicas = ptr.To[int32](5)
			ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas, ro.Status.Replicas = 5, 5, 7
			return ro
		}, PhaseProgressing, "old replicas are pending termination"},
		{"blueGreen: active service cutover pending", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Status.BlueGreen.ActiveSelector = "abc1234"
			ro.Status.StableRS, ro.Status.CurrentPodHash = "abc1234", "def5678"
			ro.Spec.Replicas = ptr.To[int32](5)
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "active service cutover pending"},
		{"blueGreen: waiting for post-promotion analysis", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis = &RolloutAnalysis{}
			ro.Status.BlueGreen.ActiveSelector = "def5678"
			ro.Status.StableRS, ro.Status.CurrentPodHash = "abc1234", "def5678"
			ro.Spec.Replicas = ptr.To[int32](5)
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "waiting for analysis to complete"},
		{"blueGreen: waiting for post-promotion verification", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Status.BlueGreen.ActiveSelector = "def5678"
			ro.Status.StableRS, ro.Status.CurrentPodHash = "abc1234", "def5678"
			ro.Spec.Replicas = ptr.To[int32](5)
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "waiting for post-promotion verification to complete"},
		{"new rollout with hashes but no updated replicas", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Replicas = nil
			ro.Status = RolloutStatus{
				ObservedGeneration: strconv.Itoa(int(ro.Generation)),
				StableRS:           "abc1234",
				CurrentPodHash:     "abc1234",
			}
			return ro
		}, PhaseProgressing, "more replicas need to be updated"},
		{"observed generation not updated", func() *Rollout {
			ro := newCanaryRollout()
			ro.Generation = 2
			ro.Spec.Replicas = nil
			ro.Status = RolloutStatus{StableRS: "abc1234", CurrentPodHash: "abc1234", ObservedGeneration: "1"}
			return ro
		}, PhaseProgressing, "waiting for rollout spec update to be observed"},
		{"v0.9 hash as observedGeneration is skipped", func() *Rollout {
			ro := newCanaryRollout()
			ro.Generation = 2
			ro.Spec.Replicas = nil
			ro.Status = RolloutStatus{StableRS: "abc1234", CurrentPodHash: "abc1234", ObservedGeneration: "7d66d4485f"}
			return ro
		}, PhaseProgressing, "more replicas need to be updated"},
		{"v0.9 all-numeric hash as observedGeneration", func() *Rollout {
			ro := newCanaryRollout()
			ro.Generation = 2
			ro.Spec.Replicas = nil
			ro.Status = RolloutStatus{StableRS: "abc1234", CurrentPodHash: "abc1234", ObservedGeneration: "1366344857"}
			return ro
		}, PhaseProgressing, "more replicas need to be updated"},
		{"restarting", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.RestartAt = &oneMinuteAgo
			healthyCanary(ro)
			return ro
		}, PhaseProgressing, "rollout is restarting"},
		{"restarted at another time", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.RestartAt = &later
			ro.Status.RestartedAt = &oneMinuteAgo
			healthyCanary(ro)
			return ro
		}, PhaseProgressing, "rollout is restarting"},
		{"workload generation not observed (argo: TemplateResolvedFromRef)", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.WorkloadRef = &ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "guestbook"}
			setWorkloadGeneration(ro, "2")
			ro.Status = RolloutStatus{WorkloadObservedGeneration: "1"}
			return ro
		}, PhaseProgressing, "waiting for rollout spec update to be observed for the reference workload"},
		{"workload generation not observed but no workloadRef", func() *Rollout {
			ro := newCanaryRollout()
			setWorkloadGeneration(ro, "2")
			healthyCanary(ro)
			ro.Status.WorkloadObservedGeneration = "1"
			return ro
		}, PhaseHealthy, ""},
		// argo: TestRolloutStatusHealthy
		{"canary healthy", func() *Rollout {
			ro := newCanaryRollout()
			healthyCanary(ro)
			return ro
		}, PhaseHealthy, ""},
		{"blueGreen healthy", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas, ro.Status.ReadyReplicas = 5, 5, 5, 5
			ro.Status.BlueGreen.ActiveSelector = "abc1234"
			ro.Status.CurrentPodHash, ro.Status.StableRS = "abc1234", "abc1234"
			return ro
		}, PhaseHealthy, ""},
		{"restarted", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.RestartAt = &oneMinuteAgo
			ro.Status.RestartedAt = &oneMinuteAgo
			healthyCanary(ro)
			return ro
		}, PhaseHealthy, ""},
		{"workload generation observed", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.WorkloadRef = &ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "guestbook"}
			setWorkloadGeneration(ro, "2")
			healthyCanary(ro)
			ro.Status.WorkloadObservedGeneration = "2"
			return ro
		}, PhaseHealthy, ""},
		// argo: TestIsUnpausing
		{"paused, written by the controller", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.Phase, ro.Status.Message = "Paused", "canary pause"
			ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonCanaryPauseStep}}
			ro.Status.ControllerPause = true
			return ro
		}, PhasePaused, "canary pause"},
		{"unpausing", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.Phase, ro.Status.Message = "Paused", "canary pause"
			ro.Status.ControllerPause = true
			return ro
		}, PhaseProgressing, "waiting for rollout to unpause"},
		// Branches argo's test file does not cover.
		{"invalid spec", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.Conditions = []RolloutCondition{
				{Type: "Available", Reason: "AvailableReason"},
				{Type: ConditionInvalidSpec, Reason: "InvalidSpec", Message: "The Rollout \"x\" is invalid: spec.strategy: both set"},
			}
			return ro
		}, PhaseDegraded, "InvalidSpec: The Rollout \"x\" is invalid: spec.strategy: both set"},
		{"aborted", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Paused = true // the Degraded conditions come first
			ro.Status.Conditions = []RolloutCondition{{Type: ConditionProgressing, Reason: "RolloutAborted", Message: "Rollout aborted update to revision 2"}}
			return ro
		}, PhaseDegraded, "RolloutAborted: Rollout aborted update to revision 2"},
		{"pause condition", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonInconclusiveAnalysis}, {Reason: PauseReasonCanaryPauseStep}}
			ro.Status.ControllerPause = true
			return ro
		}, PhasePaused, "InconclusiveAnalysisRun"},
		{"manual pause before pause conditions", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Paused = true
			ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonCanaryPauseStep}}
			ro.Status.ControllerPause = true
			return ro
		}, PhasePaused, "manually paused"},
		{"canary waiting for all steps", func() *Rollout {
			ro := newCanaryRollout()
			healthyCanary(ro)
			ro.Status.CurrentPodHash = "def5678"
			return ro
		}, PhaseProgressing, "waiting for all steps to complete"},
		{"canary without stable yet", func() *Rollout {
			ro := newCanaryRollout()
			healthyCanary(ro)
			ro.Status.StableRS, ro.Status.CurrentPodHash = "", ""
			return ro
		}, PhaseProgressing, "waiting for all steps to complete"},
		{"traffic-routed canary keeps old replicas (scaleDownDelay)", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Strategy.Canary.TrafficRouting = rawJSON(`{"nginx":{"stableIngress":"guestbook"}}`)
			healthyCanary(ro)
			ro.Status.Replicas = 10
			return ro
		}, PhaseHealthy, ""},
		{"blueGreen post-promotion analysis completed", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis = &RolloutAnalysis{}
			ro.Status.BlueGreen.PostPromotionAnalysisRunStatus = &RolloutAnalysisRunStatus{Name: "bg-post", Status: AnalysisSuccessful}
			ro.Status.BlueGreen.ActiveSelector = "def5678"
			ro.Status.StableRS, ro.Status.CurrentPodHash = "abc1234", "def5678"
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "waiting for post-promotion verification to complete"},
		{"blueGreen post-promotion analysis running", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis = &RolloutAnalysis{}
			ro.Status.BlueGreen.PostPromotionAnalysisRunStatus = &RolloutAnalysisRunStatus{Name: "bg-post", Status: AnalysisRunning}
			ro.Status.BlueGreen.ActiveSelector = "def5678"
			ro.Status.StableRS, ro.Status.CurrentPodHash = "abc1234", "def5678"
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "waiting for analysis to complete"},
		{"blueGreen without active selector", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Status.StableRS, ro.Status.CurrentPodHash = "abc1234", "abc1234"
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "active service cutover pending"},
		{"blueGreen before any hash is written", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "active service cutover pending"},
		{"blueGreen active but no stable", func() *Rollout {
			ro := newBlueGreenRollout()
			ro.Status.BlueGreen.ActiveSelector = "abc1234"
			ro.Status.StableRS, ro.Status.CurrentPodHash = "", "abc1234"
			ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas = 5, 5, 5
			return ro
		}, PhaseProgressing, "waiting for post-promotion verification to complete"},
		{"the controller's phase wins over the computed one", func() *Rollout {
			ro := newCanaryRollout()
			ro.Status.Phase, ro.Status.Message = "Degraded", "RolloutAborted: aborted by user"
			healthyCanary(ro)
			return ro
		}, PhaseDegraded, "RolloutAborted: aborted by user"},
		{"generation rule comes before the controller's phase", func() *Rollout {
			ro := newCanaryRollout()
			ro.Generation = 3
			ro.Status.ObservedGeneration = "2"
			ro.Status.Phase = "Healthy"
			return ro
		}, PhaseProgressing, "waiting for rollout spec update to be observed"},
		{"workloadRef rule comes before the controller's phase", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.WorkloadRef = &ObjectRef{Kind: "Deployment", Name: "guestbook"}
			setWorkloadGeneration(ro, "5")
			ro.Status.WorkloadObservedGeneration = "4"
			ro.Status.Phase = "Healthy"
			return ro
		}, PhaseProgressing, "waiting for rollout spec update to be observed for the reference workload"},
		{"default replicas (1)", func() *Rollout {
			ro := newCanaryRollout()
			ro.Spec.Replicas = nil
			ro.Status = RolloutStatus{UpdatedReplicas: 1, AvailableReplicas: 1, Replicas: 1, StableRS: "a", CurrentPodHash: "a"}
			return ro
		}, PhaseHealthy, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phase, message := RolloutPhase(tt.ro())
			if phase != tt.phase || message != tt.message {
				t.Errorf("RolloutPhase = %q, %q; want %q, %q", phase, message, tt.phase, tt.message)
			}
		})
	}
}

// argo: Test_isGenerationObserved.
func TestIsGenerationObserved(t *testing.T) {
	tests := []struct {
		name     string
		observed string
		gen      int64
		want     bool
	}{
		{"parse generation failed", "invalid", 0, true},
		{"status.generation more than spec.generation", "10", 9, true},
		{"status.generation equal to spec.generation", "10", 10, true},
		{"status.generation less than spec.generation", "10", 11, false},
		{"empty (never observed): a hash-less v0.9 status", "", 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ro := &Rollout{ObjectMeta: metav1.ObjectMeta{Generation: tt.gen}, Status: RolloutStatus{ObservedGeneration: tt.observed}}
			if got := isGenerationObserved(ro); got != tt.want {
				t.Errorf("isGenerationObserved() = %v, want %v", got, tt.want)
			}
		})
	}
}

// argo: the isWorkloadGenerationObserved block of TestRolloutStatusProgressing.
func TestIsWorkloadGenerationObserved(t *testing.T) {
	tests := []struct {
		name       string
		annotation string // "" = none
		observed   string
		want       bool
	}{
		{"no annotation", "", "1", true},
		{"observed out of int32 range", "2", "222222222222222222", true},
		{"observed behind", "2", "1", false},
		{"observed equal", "2", "2", true},
		{"observed unset", "2", "", true},
		{"annotation not a number", "two", "1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ro := newCanaryRollout()
			if tt.annotation != "" {
				setWorkloadGeneration(ro, tt.annotation)
			}
			ro.Status.WorkloadObservedGeneration = tt.observed
			if got := isWorkloadGenerationObserved(ro); got != tt.want {
				t.Errorf("isWorkloadGenerationObserved() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFullyPromoted(t *testing.T) {
	// argo: TestIsFullyPromoted
	if !FullyPromoted(&Rollout{Status: RolloutStatus{StableRS: "abc123", CurrentPodHash: "abc123"}}) {
		t.Error("stable == current: want fully promoted")
	}
	if FullyPromoted(&Rollout{Status: RolloutStatus{StableRS: "abc123", CurrentPodHash: "def456"}}) {
		t.Error("stable != current: want not fully promoted")
	}
}

// argo: TestCanaryStepString, plus the raw steps read by name.
func TestStepString(t *testing.T) {
	ten, tenS := intstr.FromInt32(10), intstr.FromString("10s")
	tests := []struct {
		step CanaryStep
		want string
	}{
		{CanaryStep{SetWeight: ptr.To[int32](20)}, "setWeight: 20"},
		{CanaryStep{Pause: &RolloutPause{}}, "pause"},
		{CanaryStep{Pause: &RolloutPause{Duration: &ten}}, "pause: 10"},
		{CanaryStep{Pause: &RolloutPause{Duration: &tenS}}, "pause: 10s"},
		{CanaryStep{Experiment: rawJSON(`{"templates":[]}`)}, "experiment"},
		{CanaryStep{Analysis: &RolloutAnalysis{}}, "analysis"},
		{CanaryStep{SetCanaryScale: &SetCanaryScale{Weight: ptr.To[int32](20)}}, "setCanaryScale{weight: 20}"},
		{CanaryStep{SetCanaryScale: &SetCanaryScale{MatchTrafficWeight: true}}, "setCanaryScale{matchTrafficWeight: true}"},
		{CanaryStep{SetCanaryScale: &SetCanaryScale{Replicas: ptr.To[int32](5)}}, "setCanaryScale{replicas: 5}"},
		{CanaryStep{Plugin: rawJSON(`{"name":"foo","config":{"a":1}}`)}, "plugin: foo"},
		{CanaryStep{SetHeaderRoute: rawJSON(`{"name":"foo","match":[]}`)}, "setHeaderRoute: foo"},
		{CanaryStep{SetMirrorRoute: rawJSON(`{"name":"foo"}`)}, "setMirrorRoute: foo"},
		{CanaryStep{}, "invalid"},
		{CanaryStep{SetCanaryScale: &SetCanaryScale{}}, "invalid"},
	}
	for _, tt := range tests {
		if got := StepString(tt.step); got != tt.want {
			t.Errorf("StepString(%+v) = %q, want %q", tt.step, got, tt.want)
		}
	}
}
