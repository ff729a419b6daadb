package argo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"
)

// TestRoundTrip decodes realistic objects strictly (every field of the fixture must have a
// JSON tag here) and encodes them back to the same JSON (no field lost, every name as
// argo's tags spell it). The fixtures use only the fields these types hold, under the names
// of argo-rollouts v1.10.1's pkg/apis/rollouts/v1alpha1 json tags.
func TestRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		file string
		obj  any
	}{
		{"rollout-canary.json", &Rollout{}},
		{"analysisruns.json", &AnalysisRunList{}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tt.obj); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			out, err := json.Marshal(tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			for _, d := range jsonDiff("", want, got) {
				t.Error(d)
			}
		})
	}
}

// jsonDiff lists the paths where two decoded JSON documents differ.
func jsonDiff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %v, want an object", path, got)}
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var diffs []string
		for _, k := range sorted {
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case !gok:
				diffs = append(diffs, fmt.Sprintf("%s.%s: lost (want %v)", path, k, wv))
			case !wok:
				diffs = append(diffs, fmt.Sprintf("%s.%s: added %v", path, k, gv))
			default:
				diffs = append(diffs, jsonDiff(path+"."+k, wv, gv)...)
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, jsonDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
	}
	return nil
}

// The decoded values are where the rules read them.
func TestDecodedRollout(t *testing.T) {
	ro := &Rollout{}
	readJSON(t, "rollout-canary.json", ro)
	s := ro.Status
	switch {
	case ro.UID != "3f6c1f0e-9a41-4b7e-8f43-0c1d2e3f4a5b" || ro.Generation != 7:
		t.Errorf("metadata: %+v", ro.ObjectMeta)
	case s.CurrentStepIndex == nil || *s.CurrentStepIndex != 1:
		t.Errorf("currentStepIndex: %v", s.CurrentStepIndex)
	case len(s.PauseConditions) != 1 || s.PauseConditions[0].Reason != PauseReasonCanaryPauseStep ||
		!s.PauseConditions[0].StartTime.Time.Equal(time.Date(2026, 3, 1, 10, 2, 11, 0, time.UTC)):
		t.Errorf("pauseConditions: %+v", s.PauseConditions)
	case !s.ControllerPause || s.CurrentPodHash != "6c4f9d8b7" || s.StableRS != "7d9f8c5b6" || s.ObservedGeneration != "7":
		t.Errorf("status: %+v", s)
	case s.Canary.Weights == nil || s.Canary.Weights.Canary.Weight != 20 || s.Canary.Weights.Stable.Weight != 80 ||
		s.Canary.Weights.Verified == nil || !*s.Canary.Weights.Verified:
		t.Errorf("weights: %+v", s.Canary.Weights)
	case s.Canary.CurrentStepAnalysisRunStatus == nil || s.Canary.CurrentStepAnalysisRunStatus.Name != "guestbook-6c4f9d8b7-3-2":
		t.Errorf("step analysis: %+v", s.Canary.CurrentStepAnalysisRunStatus)
	case ro.Spec.RestartAt == nil || s.RestartedAt == nil || s.HPAReplicas != 5 || s.WorkloadObservedGeneration != "2":
		t.Errorf("restartAt %v restartedAt %v HPAReplicas %d", ro.Spec.RestartAt, s.RestartedAt, s.HPAReplicas)
	case ro.Spec.Strategy.Canary.Analysis == nil || ro.Spec.Strategy.Canary.Analysis.StartingStep == nil:
		t.Errorf("background analysis: %+v", ro.Spec.Strategy.Canary.Analysis)
	}
	var texts []string
	for _, st := range Steps(ro) {
		texts = append(texts, string(st.Text))
	}
	want := []string{
		"setWeight: 20", "pause", "analysis", "setCanaryScale{weight: 50}", "setWeight: 50", "pause: 10m",
		"experiment", "setHeaderRoute: canary-header", "setMirrorRoute: mirror", "plugin: argoproj-labs/step-exec",
		"setCanaryScale{replicas: 2}", "pause: 30",
	}
	if !reflect.DeepEqual(texts, want) {
		t.Errorf("steps:\n got %q\nwant %q", texts, want)
	}
	// The controller wrote phase and message; restartAt != restartedAt would otherwise say
	// "rollout is restarting".
	if phase, msg := RolloutPhase(ro); phase != PhasePaused || msg != "CanaryPauseStep" {
		t.Errorf("RolloutPhase = %s, %q", phase, msg)
	}
	if !PausedAtStep(ro) || StepLabel(ro) != "1/12 20%" || ActualWeight(ro, 1) != 20 {
		t.Errorf("PausedAtStep %v StepLabel %q ActualWeight %d", PausedAtStep(ro), StepLabel(ro), ActualWeight(ro, 1))
	}
	if got := maxTrafficWeight(ro); got != 100 {
		t.Errorf("maxTrafficWeight = %d", got)
	}
}

// argo's workloadRef Rollout (canary-rollout2) decodes its reference.
func TestDecodedWorkloadRef(t *testing.T) {
	ro := &Rollout{}
	readJSON(t, "argo-v1.10.1/canary_canary-rollout2.json", ro)
	if ro.Spec.WorkloadRef == nil || ro.Spec.WorkloadRef.Kind != "ReplicaSet" || ro.Spec.WorkloadRef.Name != "canary-demo-65fb5ffc84" {
		t.Errorf("workloadRef: %+v", ro.Spec.WorkloadRef)
	}
}
