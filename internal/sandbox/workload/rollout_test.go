package workload

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

func TestReleaseRolloutKeepsTheDeploymentsTemplate(t *testing.T) {
	r := Release{Namespace: "demo", Name: "x-api", Image: "ghcr.io/acme/x:2.0.0", Version: "2.0.0",
		GitSHA: "3f2a9c1b7e5d3a1f9c7b5e3d1a9f7c5b3e1d9a7f", LockHash: "sha256:7a6b5c4d3e2f", Replicas: 5}
	canary := Canary{
		Steps: []CanaryStep{SetWeight(20), PauseUntilPromoted(), SetWeight(50), PauseFor("30s")},
		Analysis: &BackgroundAnalysis{
			Templates: []AnalysisTemplateRef{{TemplateName: "error-rate"}},
			Args:      []AnalysisArg{CanaryHashArg("canary-hash")},
		},
	}
	u := r.Rollout(canary)
	if u.GetAPIVersion() != "argoproj.io/v1alpha1" || u.GetKind() != "Rollout" || u.GetName() != "x-api" || u.GetNamespace() != "demo" {
		t.Fatalf("object %s %s %s/%s; want an argoproj.io/v1alpha1 Rollout demo/x-api", u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName())
	}
	if replicas, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); replicas != 5 {
		t.Errorf("spec.replicas %d; want 5", replicas)
	}
	// The same pod template as the Deployment: kwok's stages and the pod runner read its
	// labels and annotations (sandbox's pod contract), the product its provenance.
	labels, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
	ann, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "annotations")
	if labels[sandbox.RunLabel] != sandbox.RunSampleService || labels["app"] != "x-api" {
		t.Errorf("template labels %v: the pod runner would not run the sample service", labels)
	}
	if ann["org.opencontainers.image.revision"] != r.GitSHA || ann["pyroll.dev/lock-hash"] != r.LockHash || ann[sandbox.ImageDigestAnnotation] != r.ImageDigest() {
		t.Errorf("template annotations %v lack the release's provenance", ann)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "template", "metadata", "creationTimestamp"); found {
		t.Error("template carries creationTimestamp: null")
	}
	if sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels"); sel["app"] != "x-api" {
		t.Errorf("selector %v; want app=x-api", sel)
	}

	strategy, _, _ := unstructured.NestedMap(u.Object, "spec", "strategy")
	got, _ := json.Marshal(strategy)
	want := `{"canary":{"analysis":{"args":[{"name":"canary-hash","valueFrom":{"podTemplateHashValue":"Latest"}}],"templates":[{"templateName":"error-rate"}]},` +
		`"maxSurge":1,"maxUnavailable":0,"steps":[{"setWeight":20},{"pause":{}},{"setWeight":50},{"pause":{"duration":"30s"}}]}}`
	if string(got) != want {
		t.Errorf("strategy\n got %s\nwant %s", got, want)
	}
}

func TestRolloutStateReadsArgosStatus(t *testing.T) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout",
		"metadata":{"name":"checkout-api","namespace":"demo","generation":2},
		"status":{"phase":"Paused","message":"CanaryPauseStep","observedGeneration":"2","currentStepIndex":1,
			"currentPodHash":"6b7c8d9f5","stableRS":"5d8f7c9b4","replicas":6,"updatedReplicas":1,"readyReplicas":6,"availableReplicas":6,
			"pauseConditions":[{"reason":"CanaryPauseStep","startTime":"2026-01-02T15:04:05Z"}],"controllerPause":true,
			"canary":{"currentBackgroundAnalysisRunStatus":{"name":"checkout-api-6b7c8d9f5-2","status":"Running"}}}}`)); err != nil {
		t.Fatal(err)
	}
	st, err := ReadRolloutState(u)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Observed() || !st.PausedAtStep(1) || st.PausedAtStep(0) || st.Healthy() || st.Aborted() {
		t.Errorf("state %s: want observed, paused at step 1 only", st)
	}
	if st.Status.UpdatedReplicas != 1 || st.Status.CurrentPodHash != "6b7c8d9f5" || st.Status.Canary.CurrentBackgroundAnalysisRunStatus.Name != "checkout-api-6b7c8d9f5-2" {
		t.Errorf("state %s: canary counts, hash or analysis run not read", st)
	}
	// A status written for an older spec says nothing about the current one.
	u.SetGeneration(3)
	if st, _ := ReadRolloutState(u); st.Observed() || st.PausedAtStep(1) {
		t.Errorf("generation 3, observed 2: %s; want not observed", st)
	}
	// Argo writes no status before it first sees the Rollout.
	fresh := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "x", "generation": int64(1)}}}
	if st, err := ReadRolloutState(fresh); err != nil || st.Observed() || st.Healthy() {
		t.Errorf("no status: %s, %v; want not observed", st, err)
	}
}

func TestReadAnalysisRunMeasurements(t *testing.T) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(`{"apiVersion":"argoproj.io/v1alpha1","kind":"AnalysisRun",
		"metadata":{"name":"checkout-api-7f-3","namespace":"demo","labels":{"rollouts-pod-template-hash":"7f"}},
		"status":{"phase":"Failed","message":"Metric \"error-rate\" assessed Failed due to failed (2) > failureLimit (1)",
			"metricResults":[{"name":"error-rate","phase":"Failed","count":3,"successful":1,"failed":2,
				"measurements":[{"phase":"Successful","value":"[]"},{"phase":"Failed","value":"[0.05]"},{"phase":"Failed","value":"[0.0498]"}]}]}}`)); err != nil {
		t.Fatal(err)
	}
	run, err := ReadAnalysisRun(u)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status.Phase != "Failed" || len(run.Status.MetricResults) != 1 || run.Status.MetricResults[0].Failed != 2 ||
		run.Status.MetricResults[0].Measurements[1].Value != "[0.05]" || run.Labels[RolloutPodHashLabel] != "7f" {
		t.Errorf("analysis run read as %+v", run)
	}
	m := run.Status.MetricResults[0]
	if got := m.MeasuredValues("Failed"); len(got) != 2 || got[0] != 0.05 || got[1] != 0.0498 {
		t.Errorf("failed values %v; want [0.05 0.0498]", got)
	}
	// "[]": Prometheus had no series yet; nothing was measured.
	if got := m.MeasuredValues("Successful"); len(got) != 0 {
		t.Errorf("successful values %v; want none (its only result was empty)", got)
	}
}
