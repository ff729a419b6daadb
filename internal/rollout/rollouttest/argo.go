package rollouttest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// SyntheticArgo returns rollouts Argo Rollouts (canary: setWeight 20, pause, setWeight 50,
// pause 30s) paused at step 1, each with a stable and a canary ReplicaSet, podsPerRollout
// pods (one on the canary) and a running background AnalysisRun with three measurements.
func SyntheticArgo(rollouts, podsPerRollout int) rollout.Objects {
	var objs rollout.Objects
	for i := 0; i < rollouts; i++ {
		ro := ArgoRollout(fmt.Sprintf("team-%d", i%5), fmt.Sprintf("checkout-%03d", i), int32(podsPerRollout))
		stable := argoReplicaSet(ro, 1, "5d4c3b2a1", "1.0.0", int32(podsPerRollout-1))
		canary := argoReplicaSet(ro, 2, "9f8e7d6c5", "1.1.0", 1)
		ro.Spec.Template = canary.Spec.Template
		delete(ro.Spec.Template.Labels, argo.PodTemplateHashLabel)
		objs.Rollouts = append(objs.Rollouts, ro)
		objs.ReplicaSets = append(objs.ReplicaSets, stable, canary)
		objs.AnalysisRuns = append(objs.AnalysisRuns, AnalysisRun(ro, "9f8e7d6c5", argo.AnalysisRunning, "[0.004]", "[0.006]", "[0.005]"))
		for j := 0; j < podsPerRollout; j++ {
			owner := stable
			if j == 0 {
				owner = canary
			}
			objs.Pods = append(objs.Pods, Pod(owner, j, false))
		}
	}
	return objs
}

// ArgoRollout is a canary Rollout paused at step 1 of 4 (the indefinite pause), revision 2
// on 1 of replicas pods.
func ArgoRollout(ns, name string, replicas int32) *argo.Rollout {
	step := func(s argo.CanaryStep) argo.CanaryStep { return s }
	return &argo.Rollout{
		TypeMeta: metav1.TypeMeta{APIVersion: argo.GroupVersion.String(), Kind: "Rollout"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID(ns + "/rollout/" + name), Generation: 2, ResourceVersion: "777",
			CreationTimestamp: metav1.NewTime(Epoch),
			Labels:            map[string]string{"app": name},
			Annotations:       map[string]string{argo.RevisionAnnotation: "2"},
		},
		Spec: argo.RolloutSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Strategy: argo.RolloutStrategy{Canary: &argo.CanaryStrategy{Steps: []argo.CanaryStep{
				step(argo.CanaryStep{SetWeight: ptr(int32(20))}),
				step(argo.CanaryStep{Pause: &argo.RolloutPause{}}),
				step(argo.CanaryStep{SetWeight: ptr(int32(50))}),
				step(argo.CanaryStep{Pause: &argo.RolloutPause{Duration: ptr(intstr.FromString("30s"))}}),
			}}},
		},
		Status: argo.RolloutStatus{
			PauseConditions:    []argo.PauseCondition{{Reason: argo.PauseReasonCanaryPauseStep, StartTime: metav1.NewTime(Epoch.Add(3 * 60e9))}},
			ControllerPause:    true,
			CurrentPodHash:     "9f8e7d6c5",
			StableRS:           "5d4c3b2a1",
			CurrentStepIndex:   ptr(int32(1)),
			CurrentStepHash:    "6b9c8d7f4",
			Replicas:           replicas,
			UpdatedReplicas:    1,
			ReadyReplicas:      replicas,
			AvailableReplicas:  replicas,
			ObservedGeneration: "2",
			Phase:              "Paused",
			Message:            argo.PauseReasonCanaryPauseStep,
			Selector:           "app=" + name,
		},
	}
}

func argoReplicaSet(ro *argo.Rollout, revision int, hash, version string, replicas int32) *appsv1.ReplicaSet {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: ro.Name, Namespace: ro.Namespace, UID: ro.UID}}
	rs := replicaSet(d, revision, hash, version, replicas)
	rs.OwnerReferences[0].APIVersion, rs.OwnerReferences[0].Kind = argo.GroupVersion.String(), "Rollout"
	for _, labels := range []map[string]string{rs.Labels, rs.Spec.Template.Labels} {
		delete(labels, appsv1.DefaultDeploymentUniqueLabelKey)
		labels[argo.PodTemplateHashLabel] = hash
	}
	rs.Annotations = map[string]string{argo.RevisionAnnotation: fmt.Sprint(revision)}
	return rs
}

// AnalysisRun is a background analysis of ro's revision hash measuring "error-rate"
// against `result[0] < 0.01`, with the given measured values.
func AnalysisRun(ro *argo.Rollout, hash, phase string, values ...string) *argo.AnalysisRun {
	run := &argo.AnalysisRun{
		TypeMeta: metav1.TypeMeta{APIVersion: argo.GroupVersion.String(), Kind: "AnalysisRun"},
		ObjectMeta: metav1.ObjectMeta{
			Name: ro.Name + "-" + hash + "-2", Namespace: ro.Namespace, UID: types.UID(ro.Namespace + "/run/" + ro.Name + hash),
			CreationTimestamp: metav1.NewTime(Epoch.Add(2 * 60e9)),
			Labels:            map[string]string{argo.PodTemplateHashLabel: hash, argo.RolloutTypeLabel: "Background"},
			OwnerReferences:   []metav1.OwnerReference{{APIVersion: argo.GroupVersion.String(), Kind: "Rollout", Name: ro.Name, UID: ro.UID, Controller: ptr(true)}},
		},
		Spec: argo.AnalysisRunSpec{Metrics: []argo.Metric{{
			Name: "error-rate", Interval: "10s", SuccessCondition: "result[0] < 0.01", FailureLimit: ptr(intstr.FromInt32(1)),
			Provider: argo.MetricProvider{"prometheus": []byte(`{"address":"http://127.0.0.1:9090","query":"sum(rate(x[1m]))"}`)},
		}}},
		Status: argo.AnalysisRunStatus{Phase: phase},
	}
	result := argo.MetricResult{Name: "error-rate", Phase: phase}
	for _, v := range values {
		m := argo.Measurement{Phase: argo.AnalysisSuccessful, Value: v}
		result.Count++
		result.Successful++
		result.Measurements = append(result.Measurements, m)
	}
	run.Status.MetricResults = []argo.MetricResult{result}
	return run
}
