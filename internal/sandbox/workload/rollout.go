package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// Argo Rollouts' objects (argoproj.io/v1alpha1), read and written with the dynamic client:
// the argo-rollouts Go module never enters the product's go.mod (see DESIGN.md §4).
var (
	RolloutsResource          = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}
	AnalysisRunsResource      = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "analysisruns"}
	AnalysisTemplatesResource = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "analysistemplates"}
)

// RolloutPodHashLabel is the label Argo's ReplicaSets put on their pods (and themselves)
// where a Deployment's put pod-template-hash.
const RolloutPodHashLabel = "rollouts-pod-template-hash"

// Canary is an Argo Rollout's canary strategy without a traffic router: a step's weight is
// the share of the pods that run the new revision.
type Canary struct {
	Steps []CanaryStep `json:"steps"`
	// Analysis, when set, runs in the background from the rollout's update (or from
	// StartingStep) until it completes or is aborted; a failed run aborts the rollout.
	Analysis *BackgroundAnalysis `json:"analysis,omitempty"`
	// MaxSurge and MaxUnavailable as the Release's Deployment has them (1 and 0): the
	// canary's pods come on top of the stable ones, which go only once they are available.
	MaxSurge       *intstr.IntOrString `json:"maxSurge,omitempty"`
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// CanaryStep is one step of a canary: a weight to reach, or a pause.
type CanaryStep struct {
	SetWeight *int32 `json:"setWeight,omitempty"`
	Pause     *Pause `json:"pause,omitempty"`
}

// Pause holds a canary until it is promoted (Duration "") or for a duration ("30s").
type Pause struct {
	Duration string `json:"duration,omitempty"`
}

// SetWeight is the step `setWeight: w`.
func SetWeight(w int32) CanaryStep { return CanaryStep{SetWeight: &w} }

// PauseUntilPromoted is the step `pause: {}`.
func PauseUntilPromoted() CanaryStep { return CanaryStep{Pause: &Pause{}} }

// PauseFor is the step `pause: {duration: d}`.
func PauseFor(d string) CanaryStep { return CanaryStep{Pause: &Pause{Duration: d}} }

// BackgroundAnalysis is a canary's `analysis:`: AnalysisTemplates run with these args.
type BackgroundAnalysis struct {
	Templates    []AnalysisTemplateRef `json:"templates"`
	Args         []AnalysisArg         `json:"args,omitempty"`
	StartingStep *int32                `json:"startingStep,omitempty"`
}

// AnalysisTemplateRef names an AnalysisTemplate of the Rollout's namespace.
type AnalysisTemplateRef struct {
	TemplateName string `json:"templateName"`
}

// AnalysisArg is an argument passed to the templates: a Value, or one taken from the
// rollout (ValueFrom).
type AnalysisArg struct {
	Name      string       `json:"name"`
	Value     string       `json:"value,omitempty"`
	ValueFrom *ArgValueRef `json:"valueFrom,omitempty"`
}

// ArgValueRef takes an argument from the rollout: PodTemplateHashValue "Latest" is the
// canary's pod-template hash, "Stable" the stable one's.
type ArgValueRef struct {
	PodTemplateHashValue string `json:"podTemplateHashValue,omitempty"`
}

// CanaryHashArg passes the canary's pod-template hash as argument name.
func CanaryHashArg(name string) AnalysisArg {
	return AnalysisArg{Name: name, ValueFrom: &ArgValueRef{PodTemplateHashValue: "Latest"}}
}

// rolloutObject is the Rollout as the API takes it; only what the sandbox sets.
type rolloutObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Replicas                *int32                 `json:"replicas"`
		Selector                *metav1.LabelSelector  `json:"selector"`
		Template                corev1.PodTemplateSpec `json:"template"`
		MinReadySeconds         int32                  `json:"minReadySeconds,omitempty"`
		ProgressDeadlineSeconds *int32                 `json:"progressDeadlineSeconds,omitempty"`
		RevisionHistoryLimit    *int32                 `json:"revisionHistoryLimit,omitempty"`
		Strategy                struct {
			Canary Canary `json:"canary"`
		} `json:"strategy"`
	} `json:"spec"`
}

// Rollout is the Argo Rollout (argoproj.io/v1alpha1) that ships this release with the
// given canary strategy: the same pod template, provenance, selector and replicas as the
// release's Deployment, so kwok's stages and the pod runner treat its pods the same.
func (r Release) Rollout(canary Canary) *unstructured.Unstructured {
	d := r.Deployment()
	if canary.MaxSurge == nil && canary.MaxUnavailable == nil {
		canary.MaxSurge, canary.MaxUnavailable = d.Spec.Strategy.RollingUpdate.MaxSurge, d.Spec.Strategy.RollingUpdate.MaxUnavailable
	}
	var ro rolloutObject
	ro.APIVersion, ro.Kind = "argoproj.io/v1alpha1", "Rollout"
	ro.Metadata = metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace, Labels: d.Labels}
	ro.Spec.Replicas = d.Spec.Replicas
	ro.Spec.Selector = d.Spec.Selector
	ro.Spec.Template = d.Spec.Template
	ro.Spec.MinReadySeconds = d.Spec.MinReadySeconds
	ro.Spec.ProgressDeadlineSeconds = d.Spec.ProgressDeadlineSeconds
	ro.Spec.Strategy.Canary = canary
	u, err := toUnstructured(ro)
	if err != nil {
		panic(err) // plain structs of strings, numbers and maps always convert
	}
	// Empty fields of the typed objects, which the API server would only prune.
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	return u
}

func toUnstructured(v any) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

// ApplyRollout creates the release's Rollout, or rolls the existing one out to this release
// (template, replicas, strategy), by a server-side apply that owns those fields: what it
// leaves out (spec.paused, the status) stays as others set it.
func (r Release) ApplyRollout(ctx context.Context, dyn dynamic.Interface, canary Canary) (*unstructured.Unstructured, error) {
	applied, err := ApplyObject(ctx, dyn, RolloutsResource, r.Rollout(canary))
	if err != nil {
		return nil, fmt.Errorf("apply release %s/%s %s as a Rollout: %w", r.Namespace, r.Name, r.Version, err)
	}
	return applied, nil
}

// ApplyObject server-side applies obj (field manager pyroll-sandbox, forced: the sandbox's
// word is final) to resource gvr in obj's namespace.
func ApplyObject(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	applied, err := dyn.Resource(gvr).Namespace(obj.GetNamespace()).Apply(ctx, obj.GetName(), obj,
		metav1.ApplyOptions{FieldManager: "pyroll-sandbox", Force: true})
	if err != nil {
		return nil, fmt.Errorf("apply %s %s/%s: %w", gvr.Resource, obj.GetNamespace(), obj.GetName(), err)
	}
	return applied, nil
}

// RolloutState is what the sandbox's waits and tests read of an Argo Rollout: its spec's
// generation and the status the controller wrote.
type RolloutState struct {
	Generation int64
	Status     RolloutStatus
}

// RolloutStatus is the part of an Argo Rollout's status the sandbox reads.
type RolloutStatus struct {
	// Phase: Progressing, Paused, Healthy or Degraded; Message says why.
	Phase   string `json:"phase"`
	Message string `json:"message"`
	// ObservedGeneration is a string in Argo's status; see Observed.
	ObservedGeneration string `json:"observedGeneration"`
	// Abort is set when the rollout was aborted (by a failed analysis, or by hand).
	Abort            bool             `json:"abort"`
	CurrentStepIndex *int32           `json:"currentStepIndex"`
	CurrentPodHash   string           `json:"currentPodHash"` // the canary's (newest) pod-template hash
	StableRS         string           `json:"stableRS"`       // the stable pod-template hash
	PauseConditions  []PauseCondition `json:"pauseConditions"`
	ControllerPause  bool             `json:"controllerPause"`

	Replicas          int32 `json:"replicas"`
	UpdatedReplicas   int32 `json:"updatedReplicas"` // pods of the canary revision
	ReadyReplicas     int32 `json:"readyReplicas"`
	AvailableReplicas int32 `json:"availableReplicas"`

	Canary struct {
		CurrentBackgroundAnalysisRunStatus *RolloutAnalysisRunStatus `json:"currentBackgroundAnalysisRunStatus"`
		CurrentStepAnalysisRunStatus       *RolloutAnalysisRunStatus `json:"currentStepAnalysisRunStatus"`
	} `json:"canary"`
}

// PauseCondition is why a rollout is paused (CanaryPauseStep: a `pause` step).
type PauseCondition struct {
	Reason    string `json:"reason"`
	StartTime string `json:"startTime"`
}

// RolloutAnalysisRunStatus names the rollout's current AnalysisRun and its phase.
type RolloutAnalysisRunStatus struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// ReadRolloutState reads a Rollout's generation and status.
func ReadRolloutState(u *unstructured.Unstructured) (RolloutState, error) {
	st := RolloutState{Generation: u.GetGeneration()}
	raw, ok := u.Object["status"]
	if !ok {
		return st, nil
	}
	data, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(data, &st.Status)
	}
	if err != nil {
		return st, fmt.Errorf("rollout %s/%s status: %w", u.GetNamespace(), u.GetName(), err)
	}
	return st, nil
}

// Observed: the controller has acted on the current spec (a status written before is stale).
func (s RolloutState) Observed() bool {
	return s.Status.ObservedGeneration == strconv.FormatInt(s.Generation, 10)
}

// Healthy: the current spec is fully rolled out and available.
func (s RolloutState) Healthy() bool { return s.Observed() && s.Status.Phase == "Healthy" }

// PausedAtStep: the canary sits in the pause of step index step (0-based).
func (s RolloutState) PausedAtStep(step int32) bool {
	return s.Observed() && s.Status.Phase == "Paused" && s.Status.CurrentStepIndex != nil && *s.Status.CurrentStepIndex == step
}

// Aborted: the rollout was aborted and went back to its stable revision.
func (s RolloutState) Aborted() bool { return s.Status.Abort && s.Status.Phase == "Degraded" }

func (s RolloutState) String() string {
	st := s.Status
	step := "-"
	if st.CurrentStepIndex != nil {
		step = strconv.Itoa(int(*st.CurrentStepIndex))
	}
	analysis := "-"
	if a := st.Canary.CurrentBackgroundAnalysisRunStatus; a != nil {
		analysis = a.Name + ":" + a.Status
	}
	return fmt.Sprintf("phase=%s message=%q generation=%d observed=%s step=%s abort=%t replicas=%d updated=%d ready=%d available=%d canary=%s stable=%s analysis=%s",
		st.Phase, st.Message, s.Generation, st.ObservedGeneration, step, st.Abort, st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas,
		st.CurrentPodHash, st.StableRS, analysis)
}

// WaitRollout polls the Rollout until cond holds, for at most timeout, and returns the
// state that satisfied it.
func WaitRollout(ctx context.Context, dyn dynamic.Interface, ns, name string, timeout time.Duration, what string, cond func(RolloutState) bool) (RolloutState, error) {
	var last RolloutState
	var lastErr error
	seen := false
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		u, err := dyn.Resource(RolloutsResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			lastErr = err
			return false, nil
		}
		st, err := ReadRolloutState(u)
		if err != nil {
			return false, err
		}
		last, seen = st, true
		return cond(st), nil
	})
	if err != nil {
		state := fmt.Sprintf("not read: %v", lastErr)
		if seen {
			state = last.String()
		}
		return last, fmt.Errorf("rollout %s/%s not %s after %s (%s)", ns, name, what, timeout, state)
	}
	return last, nil
}

// AnalysisRun is the part of an Argo AnalysisRun the sandbox reads.
type AnalysisRun struct {
	Name   string
	Labels map[string]string
	Status struct {
		// Phase: Pending, Running, Successful, Failed, Error or Inconclusive.
		Phase         string         `json:"phase"`
		Message       string         `json:"message"`
		MetricResults []MetricResult `json:"metricResults"`
	}
}

// MetricResult is one metric's measurements so far.
type MetricResult struct {
	Name         string        `json:"name"`
	Phase        string        `json:"phase"`
	Message      string        `json:"message"`
	Count        int32         `json:"count"`
	Successful   int32         `json:"successful"`
	Failed       int32         `json:"failed"`
	Inconclusive int32         `json:"inconclusive"`
	Error        int32         `json:"error"`
	Measurements []Measurement `json:"measurements"`
}

// Measurement is one query's outcome; Value is the provider's result as text (Prometheus: a
// vector's values, e.g. "[0.05]").
type Measurement struct {
	Phase     string `json:"phase"`
	Value     string `json:"value"`
	Message   string `json:"message"`
	StartedAt string `json:"startedAt"`
}

// ReadAnalysisRun reads an AnalysisRun's name, labels and status.
func ReadAnalysisRun(u *unstructured.Unstructured) (AnalysisRun, error) {
	run := AnalysisRun{Name: u.GetName(), Labels: u.GetLabels()}
	raw, ok := u.Object["status"]
	if !ok {
		return run, nil
	}
	data, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(data, &run.Status)
	}
	if err != nil {
		return run, fmt.Errorf("analysisrun %s/%s status: %w", u.GetNamespace(), u.GetName(), err)
	}
	return run, nil
}

// GetAnalysisRun reads one AnalysisRun.
func GetAnalysisRun(ctx context.Context, dyn dynamic.Interface, ns, name string) (AnalysisRun, error) {
	u, err := dyn.Resource(AnalysisRunsResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return AnalysisRun{}, fmt.Errorf("get analysisrun %s/%s: %w", ns, name, err)
	}
	return ReadAnalysisRun(u)
}

// WaitAnalysisRun polls the AnalysisRun until cond holds, for at most timeout, and returns
// the run that satisfied it.
func WaitAnalysisRun(ctx context.Context, dyn dynamic.Interface, ns, name string, timeout time.Duration, what string, cond func(AnalysisRun) bool) (AnalysisRun, error) {
	var last AnalysisRun
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		run, err := GetAnalysisRun(ctx, dyn, ns, name)
		if err != nil {
			lastErr = err
			return false, nil
		}
		last, lastErr = run, nil
		return cond(run), nil
	})
	if err != nil {
		state := fmt.Sprintf("phase %q, metrics %+v", last.Status.Phase, last.Status.MetricResults)
		if lastErr != nil {
			state = lastErr.Error()
		}
		return last, fmt.Errorf("analysisrun %s/%s not %s after %s (%s)", ns, name, what, timeout, state)
	}
	return last, nil
}

// MeasuredValues are the values of the measurements in the given phase ("Successful",
// "Failed", ...) whose Prometheus result was not empty, read from Value's "[v1,v2,...]" (the
// first number of each).
func (m MetricResult) MeasuredValues(phase string) []float64 {
	var values []float64
	for _, ms := range m.Measurements {
		if ms.Phase != phase {
			continue
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(ms.Value, "["), "]")
		first, _, _ := strings.Cut(inner, ",")
		if v, err := strconv.ParseFloat(strings.TrimSpace(first), 64); err == nil {
			values = append(values, v)
		}
	}
	return values
}
