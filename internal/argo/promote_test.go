package argo

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The rollouts of argo's pkg/kubectl-argo-rollouts/cmd/promote/promote_test.go, and the
// bodies are the strings its getPatches sends (compared byte for byte).

func twoSetWeights() *Rollout {
	return &Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "guestbook", Namespace: metav1.NamespaceDefault},
		Spec: RolloutSpec{Strategy: RolloutStrategy{Canary: &CanaryStrategy{Steps: []CanaryStep{
			{SetWeight: ptr.To[int32](1)},
			{SetWeight: ptr.To[int32](2)},
		}}}},
	}
}

func pausedCanary() *Rollout {
	ro := newCanaryRollout() // setWeight 10, pause, setWeight 20
	ro.Spec.Strategy.Canary.Steps[1].Pause.Duration = nil
	ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonCanaryPauseStep}}
	ro.Status.ControllerPause = true
	ro.Status.CurrentPodHash, ro.Status.StableRS = "6c4f9d8b7", "7d9f8c5b6"
	return ro
}

func status(body string) Patch { return Patch{Subresource: SubresourceStatus, Body: []byte(body)} }
func spec(body string) Patch   { return Patch{Subresource: SubresourceSpec, Body: []byte(body)} }

type planCase struct {
	name    string
	ro      func() *Rollout
	patches []Patch
	effect  string
	err     error
}

func checkPlan(t *testing.T, tt planCase, plan Plan, err error) {
	t.Helper()
	if !errors.Is(err, tt.err) {
		t.Fatalf("err = %v, want %v", err, tt.err)
	}
	if tt.err != nil {
		if len(plan.Patches) != 0 {
			t.Errorf("patches with an error: %s", patchesString(plan.Patches))
		}
		return
	}
	if !reflect.DeepEqual(plan.Patches, tt.patches) {
		t.Errorf("patches:\n got %s\nwant %s", patchesString(plan.Patches), patchesString(tt.patches))
	}
	if plan.Effect != tt.effect {
		t.Errorf("effect:\n got %q\nwant %q", plan.Effect, tt.effect)
	}
	for _, p := range plan.Patches {
		var obj map[string]any
		if err := json.Unmarshal(p.Body, &obj); err != nil {
			t.Errorf("body %s is not a JSON object: %v", p.Body, err)
		}
		if _, ok := obj["metadata"]; ok {
			t.Errorf("body %s carries metadata: the caller adds the resourceVersion", p.Body)
		}
	}
}

func patchesString(ps []Patch) string {
	s := "["
	for _, p := range ps {
		s += " " + p.Subresource + ":" + string(p.Body)
	}
	return s + " ]"
}

func TestPlanPromote(t *testing.T) {
	tests := []planCase{
		{
			name:    "canary paused at an indefinite pause step: clear the pause conditions",
			ro:      pausedCanary,
			patches: []Patch{status(`{"status":{"pauseConditions":null}}`)},
			effect:  "resume from step 1/3 (pause) to step 2/3 (setWeight: 20)",
		},
		{
			name: "canary paused at a timed pause step: the same, earlier",
			ro: func() *Rollout {
				ro := newCanaryRollout()
				ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonCanaryPauseStep}}
				ro.Status.ControllerPause = true
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null}}`)},
			effect:  "resume from step 1/3 (pause: 60) to step 2/3 (setWeight: 20)",
		},
		{
			name: "last step a pause: resume to the end",
			ro: func() *Rollout {
				ro := pausedCanary()
				ro.Spec.Strategy.Canary.Steps = ro.Spec.Strategy.Canary.Steps[:2]
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null}}`)},
			effect:  "resume from step 1/2 (pause) to the end of the steps",
		},
		{
			// argo: TestPromoteCmdSuccessUnpause (no strategy at all)
			name: "spec.paused and pause conditions: status first, then spec",
			ro: func() *Rollout {
				return &Rollout{
					Spec: RolloutSpec{Paused: true},
					Status: RolloutStatus{
						PauseConditions: []PauseCondition{{Reason: PauseReasonCanaryPauseStep}},
						ControllerPause: true,
					},
				}
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null}}`), spec(`{"spec":{"paused":false}}`)},
			effect:  "unpause (spec.paused); clear the pause (CanaryPauseStep)",
		},
		{
			name: "manually paused canary mid-step: argo unpauses and moves the step",
			ro: func() *Rollout {
				ro := twoSetWeights()
				ro.Spec.Paused = true
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null, "currentStepIndex":1}}`), spec(`{"spec":{"paused":false}}`)},
			effect:  "unpause (spec.paused); skip from step 0/2 (setWeight: 1) to step 1/2 (setWeight: 2)",
		},
		{
			name: "manually paused, every step done: unpause (and argo's no-op step patch)",
			ro: func() *Rollout {
				ro := twoSetWeights()
				ro.Spec.Paused = true
				ro.Status.CurrentStepIndex = ptr.To[int32](2)
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null, "currentStepIndex":2}}`), spec(`{"spec":{"paused":false}}`)},
			effect:  "unpause (spec.paused)",
		},
		{
			name: "manually paused blueGreen: unpause only",
			ro: func() *Rollout {
				ro := newBlueGreenRollout()
				ro.Spec.Paused = true
				return ro
			},
			patches: []Patch{spec(`{"spec":{"paused":false}}`)},
			effect:  "unpause (spec.paused)",
		},
		{
			// argo: TestPromoteInconclusiveStep
			name: "inconclusive step analysis with controllerPause: step+1 and controllerPause off",
			ro: func() *Rollout {
				ro := twoSetWeights()
				ro.Spec.Paused = true
				ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonCanaryPauseStep}}
				ro.Status.ControllerPause = true
				ro.Status.Canary.CurrentStepAnalysisRunStatus = &RolloutAnalysisRunStatus{Status: AnalysisInconclusive}
				return ro
			},
			patches: []Patch{
				status(`{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":1}}`),
				spec(`{"spec":{"paused":false}}`),
			},
			effect: "unpause (spec.paused); accept the inconclusive analysis and go from step 0/2 (setWeight: 1) to step 1/2 (setWeight: 2)",
		},
		{
			name: "inconclusive step analysis at an analysis step",
			ro: func() *Rollout {
				ro := newCanaryRollout()
				ro.Spec.Strategy.Canary.Steps[1] = CanaryStep{Analysis: &RolloutAnalysis{Templates: []AnalysisTemplateRef{{TemplateName: "error-rate"}}}}
				ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonInconclusiveAnalysis}}
				ro.Status.ControllerPause = true
				ro.Status.Canary.CurrentStepAnalysisRunStatus = &RolloutAnalysisRunStatus{Name: "guestbook-1", Status: AnalysisInconclusive}
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":2}}`)},
			effect:  "accept the inconclusive analysis and go from step 1/3 (analysis) to step 2/3 (setWeight: 20)",
		},
		{
			name: "inconclusive without controllerPause: only clear the pause conditions",
			ro: func() *Rollout {
				ro := newCanaryRollout()
				ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonInconclusiveAnalysis}}
				ro.Status.Canary.CurrentStepAnalysisRunStatus = &RolloutAnalysisRunStatus{Status: AnalysisInconclusive}
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null}}`)},
			effect:  "clear the pause (InconclusiveAnalysisRun) at step 1/3 (pause: 60)",
		},
		{
			name: "inconclusive background analysis pause: clear the pause conditions",
			ro: func() *Rollout {
				ro := twoSetWeights()
				ro.Status.CurrentStepIndex = ptr.To[int32](1)
				ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonInconclusiveAnalysis}, {Reason: PauseReasonInconclusiveExperiment}}
				ro.Status.ControllerPause = true
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null}}`)},
			effect:  "clear the pause (InconclusiveAnalysisRun, InconclusiveExperiment) at step 1/2 (setWeight: 2)",
		},
		{
			// argo: TestPromoteCmdSuccesFirstStep
			name:    "mid-analysis without pause conditions: step index+1",
			ro:      twoSetWeights,
			patches: []Patch{status(`{"status":{"pauseConditions":null, "currentStepIndex":1}}`)},
			effect:  "skip from step 0/2 (setWeight: 1) to step 1/2 (setWeight: 2)",
		},
		{
			name: "mid-analysis at the last step: to the end",
			ro: func() *Rollout {
				ro := twoSetWeights()
				ro.Spec.Strategy.Canary.Steps[1] = CanaryStep{Analysis: &RolloutAnalysis{}}
				ro.Status.CurrentStepIndex = ptr.To[int32](1)
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null, "currentStepIndex":2}}`)},
			effect:  "skip from step 1/2 (analysis) to the end of the steps",
		},
		{
			name: "blueGreen paused for promotion: clear the pause conditions",
			ro: func() *Rollout {
				ro := newBlueGreenRollout()
				ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonBlueGreenPause}}
				ro.Status.ControllerPause = true
				ro.Status.BlueGreen.ActiveSelector, ro.Status.BlueGreen.PreviewSelector = "6cbccd9f99", "74b948fccb"
				return ro
			},
			patches: []Patch{status(`{"status":{"pauseConditions":null}}`)},
			effect:  "switch the active service from 6cbccd9f99 to 74b948fccb",
		},
		{
			name: "aborted: retry instead",
			ro: func() *Rollout {
				ro := pausedCanary()
				ro.Status.Abort = true
				return ro
			},
			err: ErrAborted,
		},
		{
			// argo: TestPromoteCmdSuccessDoNotGoPastLastStep sends currentStepIndex 2 again
			name: "every step done, new revision not stable yet: nothing to promote",
			ro: func() *Rollout {
				ro := twoSetWeights()
				ro.Status.CurrentStepIndex = ptr.To[int32](2)
				ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
				return ro
			},
			err: ErrNothingToPromote,
		},
		{
			name: "every step done and stable: fully promoted",
			ro: func() *Rollout {
				ro := twoSetWeights()
				ro.Status.CurrentStepIndex = ptr.To[int32](2)
				ro.Status.CurrentPodHash, ro.Status.StableRS = "same", "same"
				return ro
			},
			err: ErrFullyPromoted,
		},
		{
			// argo: TestPromoteNoStepCanary sends nothing
			name: "canary without steps, not paused",
			ro: func() *Rollout {
				return &Rollout{Spec: RolloutSpec{Strategy: RolloutStrategy{Canary: &CanaryStrategy{}}}}
			},
			err: ErrNothingToPromote,
		},
		{
			name: "blueGreen not paused",
			ro: func() *Rollout {
				ro := newBlueGreenRollout()
				ro.Status.CurrentPodHash, ro.Status.StableRS = "a", "a"
				return ro
			},
			err: ErrFullyPromoted,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ro := tt.ro()
			before := ro.DeepCopy()
			plan, err := PlanPromote(ro)
			checkPlan(t, tt, plan, err)
			if !reflect.DeepEqual(ro, before) {
				t.Error("PlanPromote changed the rollout") // argo's index++ works on a copy
			}
		})
	}
}

func TestPlanPromoteFull(t *testing.T) {
	tests := []planCase{
		{
			// argo: TestPromoteCmdFull
			name: "stable != current",
			ro: func() *Rollout {
				return &Rollout{Status: RolloutStatus{StableRS: "abc123", CurrentPodHash: "def456"}}
			},
			patches: []Patch{status(`{"status":{"promoteFull":true}}`)},
			effect:  "promote def456 fully: skip the remaining steps, analysis and pauses",
		},
		{
			// argo: TestPromoteCmdAlreadyFullyPromoted sends nothing
			name: "stable == current",
			ro: func() *Rollout {
				return &Rollout{Status: RolloutStatus{StableRS: "abc123", CurrentPodHash: "abc123"}}
			},
			err: ErrFullyPromoted,
		},
		{
			// argo: TestPromoteCmdFullWithSpecPaused
			name: "spec.paused: promoteFull, then unpause",
			ro: func() *Rollout {
				ro := pausedCanary()
				ro.Spec.Paused = true
				return ro
			},
			patches: []Patch{status(`{"status":{"promoteFull":true}}`), spec(`{"spec":{"paused":false}}`)},
			effect:  "unpause (spec.paused); promote 6c4f9d8b7 fully: skip the remaining steps, analysis and pauses",
		},
		{
			name: "spec.paused and stable == current: unpause only",
			ro: func() *Rollout {
				ro := newCanaryRollout()
				ro.Spec.Paused = true
				ro.Status.StableRS, ro.Status.CurrentPodHash = "abc123", "abc123"
				return ro
			},
			patches: []Patch{spec(`{"spec":{"paused":false}}`)},
			effect:  "unpause (spec.paused); abc123 is already fully promoted",
		},
		{
			name: "blueGreen",
			ro: func() *Rollout {
				ro := newBlueGreenRollout()
				ro.Status.StableRS, ro.Status.CurrentPodHash = "6cbccd9f99", "74b948fccb"
				ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonBlueGreenPause}}
				return ro
			},
			patches: []Patch{status(`{"status":{"promoteFull":true}}`)},
			effect:  "promote 74b948fccb fully: switch the active service now, skipping analysis and pauses",
		},
		{
			name: "aborted: promoteFull lifts the abort",
			ro: func() *Rollout {
				ro := pausedCanary()
				ro.Status.Abort = true
				return ro
			},
			patches: []Patch{status(`{"status":{"promoteFull":true}}`)},
			effect:  "promote 6c4f9d8b7 fully: skip the remaining steps, analysis and pauses, lifting the abort",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := PlanPromoteFull(tt.ro())
			checkPlan(t, tt, plan, err)
		})
	}
}

func TestPlanAbort(t *testing.T) {
	ro := pausedCanary()
	checkPlan(t, planCase{
		patches: []Patch{status(`{"status":{"abort":true}}`)},
		effect:  "abort the update to 6c4f9d8b7: all traffic back to 7d9f8c5b6 at once",
	}, PlanAbort(ro), nil)

	bg := newBlueGreenRollout()
	bg.Status.StableRS, bg.Status.CurrentPodHash = "6cbccd9f99", "74b948fccb"
	checkPlan(t, planCase{
		patches: []Patch{status(`{"status":{"abort":true}}`)},
		effect:  "abort the update to 74b948fccb: the active service back to 6cbccd9f99 at once",
	}, PlanAbort(bg), nil)
}

func TestPlanRetry(t *testing.T) {
	ro := pausedCanary()
	_, err := PlanRetry(ro)
	checkPlan(t, planCase{err: ErrNotAborted}, Plan{}, err)

	ro.Status.Abort = true
	plan, err := PlanRetry(ro)
	checkPlan(t, planCase{
		patches: []Patch{status(`{"status":{"abort":false}}`)},
		effect:  "retry the update to 6c4f9d8b7 from step 0/3 (setWeight: 10)",
	}, plan, err)

	bg := newBlueGreenRollout()
	bg.Status.Abort, bg.Status.CurrentPodHash = true, "74b948fccb"
	plan, err = PlanRetry(bg)
	checkPlan(t, planCase{
		patches: []Patch{status(`{"status":{"abort":false}}`)},
		effect:  "retry the update to 74b948fccb",
	}, plan, err)
}

// The bodies, applied as JSON merge patches (RFC 7386) to the rollout, do what argo means:
// null removes the pause conditions, the step moves on.
func TestPromotePatchesApplied(t *testing.T) {
	ro := twoSetWeights()
	ro.Spec.Paused = true
	ro.Status.PauseConditions = []PauseCondition{{Reason: PauseReasonCanaryPauseStep}}
	ro.Status.ControllerPause = true
	ro.Status.Canary.CurrentStepAnalysisRunStatus = &RolloutAnalysisRunStatus{Status: AnalysisInconclusive}
	plan, err := PlanPromote(ro)
	if err != nil {
		t.Fatal(err)
	}
	got := applyMergePatches(t, ro, plan.Patches)
	if got.Spec.Paused || got.Status.PauseConditions != nil || got.Status.ControllerPause ||
		got.Status.CurrentStepIndex == nil || *got.Status.CurrentStepIndex != 1 {
		t.Errorf("after the patches: paused=%v pauseConditions=%v controllerPause=%v step=%v",
			got.Spec.Paused, got.Status.PauseConditions, got.Status.ControllerPause, got.Status.CurrentStepIndex)
	}
}

func applyMergePatches(t *testing.T, ro *Rollout, patches []Patch) *Rollout {
	t.Helper()
	raw, err := json.Marshal(ro)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range patches {
		var patch any
		if err := json.Unmarshal(p.Body, &patch); err != nil {
			t.Fatal(err)
		}
		doc = mergePatch(doc, patch)
	}
	if raw, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	out := &Rollout{}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// mergePatch is RFC 7386's MergePatch.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}

func TestWithResourceVersion(t *testing.T) {
	plan, err := PlanPromote(pausedCanary())
	if err != nil {
		t.Fatal(err)
	}
	body, err := plan.Patches[0].WithResourceVersion("918273")
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(`{"metadata":{"resourceVersion":"918273"},"status":{"pauseConditions":null}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithResourceVersion = %s", body)
	}
	// Existing metadata is kept.
	body, err = Patch{Body: []byte(`{"metadata":{"labels":{"a":"b"}},"spec":{"paused":false}}`)}.WithResourceVersion("7")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(body, &got)
	_ = json.Unmarshal([]byte(`{"metadata":{"labels":{"a":"b"},"resourceVersion":"7"},"spec":{"paused":false}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithResourceVersion kept metadata: %s", body)
	}
	if _, err := (Patch{Body: []byte(`[1]`)}).WithResourceVersion("7"); err == nil {
		t.Error("a non-object body: want an error")
	}
}
