// Package argo reads Argo Rollouts (argoproj.io/v1alpha1 Rollout and AnalysisRun) the way
// argo-rollouts' own controller and plugin do: the phase, the current step, the weights,
// the promote branches and the analysis results, ported from argo-rollouts v1.10.1 and
// table-tested against its cases. It is pure: no I/O, no clock of its own.
//
// The types are hand-written JSON types for the fields kubectl-pyroll reads, not the
// argo-rollouts Go module: its clientset does not build against client-go v0.36 and it
// drags in a scheme of every group (see internal/kubeapi). The API server serves custom
// resources as JSON only, so JSON tags are all these types need.
package argo

import (
	"encoding/json"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// GroupVersion is argoproj.io/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: "argoproj.io", Version: "v1alpha1"}

// Labels and annotations argo's controller writes.
const (
	// RevisionAnnotation numbers a Rollout's revisions (on the Rollout and its ReplicaSets).
	RevisionAnnotation = "rollout.argoproj.io/revision"
	// PodTemplateHashLabel names a revision on its ReplicaSet, pods and AnalysisRuns.
	PodTemplateHashLabel = "rollouts-pod-template-hash"
	// RolloutTypeLabel says why an AnalysisRun runs: Step, Background, PrePromotion, PostPromotion.
	RolloutTypeLabel = "rollout-type"
	// WorkloadGenerationAnnotation is the referenced Deployment's generation, written on a
	// workloadRef Rollout (argo: utils/annotations.WorkloadGenerationAnnotation); the controller
	// has seen it once status.workloadObservedGeneration equals it.
	WorkloadGenerationAnnotation = "rollout.argoproj.io/workload-generation"
)

// Rollout is an argoproj.io/v1alpha1 Rollout.
type Rollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              RolloutSpec   `json:"spec"`
	Status            RolloutStatus `json:"status,omitempty"`
}

// RolloutList is a list of Rollouts.
type RolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Rollout `json:"items"`
}

// RolloutSpec is the part of a Rollout's spec kubectl-pyroll reads.
type RolloutSpec struct {
	Replicas                *int32                 `json:"replicas,omitempty"`
	Selector                *metav1.LabelSelector  `json:"selector,omitempty"`
	Template                corev1.PodTemplateSpec `json:"template"`
	WorkloadRef             *ObjectRef             `json:"workloadRef,omitempty"`
	MinReadySeconds         int32                  `json:"minReadySeconds,omitempty"`
	Strategy                RolloutStrategy        `json:"strategy"`
	Paused                  bool                   `json:"paused,omitempty"`
	ProgressDeadlineSeconds *int32                 `json:"progressDeadlineSeconds,omitempty"`
	ProgressDeadlineAbort   bool                   `json:"progressDeadlineAbort,omitempty"`
	// RestartAt asks for every pod to be restarted; status.restartedAt says when that was done.
	RestartAt *metav1.Time `json:"restartAt,omitempty"`
}

// ObjectRef names the Deployment a workloadRef Rollout takes its template from.
type ObjectRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
	ScaleDown  string `json:"scaleDown,omitempty"`
}

// RolloutStrategy is canary or blueGreen.
type RolloutStrategy struct {
	BlueGreen *BlueGreenStrategy `json:"blueGreen,omitempty"`
	Canary    *CanaryStrategy    `json:"canary,omitempty"`
}

// CanaryStrategy is a canary's steps and how its traffic is split.
type CanaryStrategy struct {
	CanaryService string       `json:"canaryService,omitempty"`
	StableService string       `json:"stableService,omitempty"`
	Steps         []CanaryStep `json:"steps,omitempty"`
	// TrafficRouting is kept raw: only whether there is one matters here (without one,
	// weights are approximated by replica counts), and its maxTrafficWeight (the total
	// weights are out of, 100 when unset).
	TrafficRouting     *json.RawMessage    `json:"trafficRouting,omitempty"`
	Analysis           *RolloutAnalysis    `json:"analysis,omitempty"`
	MaxSurge           *intstr.IntOrString `json:"maxSurge,omitempty"`
	MaxUnavailable     *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	DynamicStableScale bool                `json:"dynamicStableScale,omitempty"`
}

// BlueGreenStrategy is an active and a preview service.
type BlueGreenStrategy struct {
	ActiveService         string           `json:"activeService"`
	PreviewService        string           `json:"previewService,omitempty"`
	AutoPromotionEnabled  *bool            `json:"autoPromotionEnabled,omitempty"`
	AutoPromotionSeconds  int32            `json:"autoPromotionSeconds,omitempty"`
	PrePromotionAnalysis  *RolloutAnalysis `json:"prePromotionAnalysis,omitempty"`
	PostPromotionAnalysis *RolloutAnalysis `json:"postPromotionAnalysis,omitempty"`
}

// CanaryStep is one step; exactly one field is set. Experiment, SetHeaderRoute, SetMirrorRoute
// and Plugin are kept raw: only their name is shown (see StepString).
type CanaryStep struct {
	SetWeight      *int32           `json:"setWeight,omitempty"`
	Pause          *RolloutPause    `json:"pause,omitempty"`
	Experiment     *json.RawMessage `json:"experiment,omitempty"`
	Analysis       *RolloutAnalysis `json:"analysis,omitempty"`
	SetCanaryScale *SetCanaryScale  `json:"setCanaryScale,omitempty"`
	SetHeaderRoute *json.RawMessage `json:"setHeaderRoute,omitempty"`
	SetMirrorRoute *json.RawMessage `json:"setMirrorRoute,omitempty"`
	Plugin         *json.RawMessage `json:"plugin,omitempty"`
}

// RolloutPause waits for Duration, or for a promote when Duration is nil.
type RolloutPause struct {
	Duration *intstr.IntOrString `json:"duration,omitempty"`
}

// SetCanaryScale scales the canary apart from its traffic weight.
type SetCanaryScale struct {
	Weight             *int32 `json:"weight,omitempty"`
	Replicas           *int32 `json:"replicas,omitempty"`
	MatchTrafficWeight bool   `json:"matchTrafficWeight,omitempty"`
}

// RolloutAnalysis names the AnalysisTemplates a step or the background analysis runs.
type RolloutAnalysis struct {
	Templates []AnalysisTemplateRef `json:"templates,omitempty"`
	// StartingStep (background analysis) is the step index it starts at.
	StartingStep *int32 `json:"startingStep,omitempty"`
}

// AnalysisTemplateRef is one template of an analysis.
type AnalysisTemplateRef struct {
	TemplateName string `json:"templateName,omitempty"`
	ClusterScope bool   `json:"clusterScope,omitempty"`
}

// RolloutStatus is the part of a Rollout's status kubectl-pyroll reads.
type RolloutStatus struct {
	Abort             bool             `json:"abort,omitempty"`
	PauseConditions   []PauseCondition `json:"pauseConditions,omitempty"`
	ControllerPause   bool             `json:"controllerPause,omitempty"`
	AbortedAt         *metav1.Time     `json:"abortedAt,omitempty"`
	CurrentPodHash    string           `json:"currentPodHash,omitempty"`
	CurrentStepHash   string           `json:"currentStepHash,omitempty"`
	Replicas          int32            `json:"replicas,omitempty"`
	UpdatedReplicas   int32            `json:"updatedReplicas,omitempty"`
	ReadyReplicas     int32            `json:"readyReplicas,omitempty"`
	AvailableReplicas int32            `json:"availableReplicas,omitempty"`
	CurrentStepIndex  *int32           `json:"currentStepIndex,omitempty"`
	// ObservedGeneration is a string in argo's API (a number written as text).
	ObservedGeneration         string             `json:"observedGeneration,omitempty"`
	Conditions                 []RolloutCondition `json:"conditions,omitempty"`
	Canary                     CanaryStatus       `json:"canary,omitempty"`
	BlueGreen                  BlueGreenStatus    `json:"blueGreen,omitempty"`
	HPAReplicas                int32              `json:"HPAReplicas,omitempty"`
	Selector                   string             `json:"selector,omitempty"`
	StableRS                   string             `json:"stableRS,omitempty"`
	PromoteFull                bool               `json:"promoteFull,omitempty"`
	Phase                      string             `json:"phase,omitempty"`
	Message                    string             `json:"message,omitempty"`
	WorkloadObservedGeneration string             `json:"workloadObservedGeneration,omitempty"`
	RestartedAt                *metav1.Time       `json:"restartedAt,omitempty"`
}

// PauseCondition is why the rollout is paused and since when.
type PauseCondition struct {
	Reason    string      `json:"reason"`
	StartTime metav1.Time `json:"startTime"`
}

// Pause reasons argo writes.
const (
	PauseReasonInconclusiveAnalysis   = "InconclusiveAnalysisRun"
	PauseReasonInconclusiveExperiment = "InconclusiveExperiment"
	PauseReasonCanaryPauseStep        = "CanaryPauseStep"
	PauseReasonBlueGreenPause         = "BlueGreenPause"
)

// Condition types and reasons argo's phase rules read (argo: pkg/apis/rollouts/v1alpha1
// InvalidSpec, utils/conditions.RolloutAbortedReason and TimedOutReason).
const (
	ConditionInvalidSpec   = "InvalidSpec"
	ConditionProgressing   = "Progressing"
	ReasonRolloutAborted   = "RolloutAborted"
	ReasonProgressDeadline = "ProgressDeadlineExceeded"
)

// Defaults argo applies when a field is unset.
const (
	defaultReplicas         = int32(1)   // argo: utils/defaults.DefaultReplicas
	defaultMaxTrafficWeight = int32(100) // argo: utils/weightutil.MaxTrafficWeight
)

// RolloutCondition is one of the Rollout's conditions (Progressing, Available, Paused,
// Healthy, Completed, InvalidSpec, ReplicaFailure).
type RolloutCondition struct {
	Type               string                 `json:"type"`
	Status             corev1.ConditionStatus `json:"status"`
	LastUpdateTime     metav1.Time            `json:"lastUpdateTime,omitempty"`
	LastTransitionTime metav1.Time            `json:"lastTransitionTime,omitempty"`
	Reason             string                 `json:"reason,omitempty"`
	Message            string                 `json:"message,omitempty"`
}

// CanaryStatus is a canary's analysis and traffic.
type CanaryStatus struct {
	CurrentStepAnalysisRunStatus       *RolloutAnalysisRunStatus `json:"currentStepAnalysisRunStatus,omitempty"`
	CurrentBackgroundAnalysisRunStatus *RolloutAnalysisRunStatus `json:"currentBackgroundAnalysisRunStatus,omitempty"`
	CurrentExperiment                  string                    `json:"currentExperiment,omitempty"`
	Weights                            *TrafficWeights           `json:"weights,omitempty"`
}

// TrafficWeights is how a traffic router splits traffic now.
type TrafficWeights struct {
	Canary   WeightDestination `json:"canary"`
	Stable   WeightDestination `json:"stable"`
	Verified *bool             `json:"verified,omitempty"`
}

// WeightDestination is one side of the split.
type WeightDestination struct {
	Weight          int32  `json:"weight"`
	ServiceName     string `json:"serviceName,omitempty"`
	PodTemplateHash string `json:"podTemplateHash,omitempty"`
}

// BlueGreenStatus is which revision the active and preview services select.
type BlueGreenStatus struct {
	PreviewSelector                string                    `json:"previewSelector,omitempty"`
	ActiveSelector                 string                    `json:"activeSelector,omitempty"`
	ScaleUpPreviewCheckPoint       bool                      `json:"scaleUpPreviewCheckPoint,omitempty"`
	PrePromotionAnalysisRunStatus  *RolloutAnalysisRunStatus `json:"prePromotionAnalysisRunStatus,omitempty"`
	PostPromotionAnalysisRunStatus *RolloutAnalysisRunStatus `json:"postPromotionAnalysisRunStatus,omitempty"`
}

// RolloutAnalysisRunStatus names an AnalysisRun the rollout waits on.
type RolloutAnalysisRunStatus struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// AnalysisRun is an argoproj.io/v1alpha1 AnalysisRun.
type AnalysisRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              AnalysisRunSpec   `json:"spec"`
	Status            AnalysisRunStatus `json:"status,omitempty"`
}

// AnalysisRunList is a list of AnalysisRuns.
type AnalysisRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AnalysisRun `json:"items"`
}

// AnalysisRunSpec is the metrics an AnalysisRun measures.
type AnalysisRunSpec struct {
	Metrics   []Metric `json:"metrics"`
	Terminate bool     `json:"terminate,omitempty"`
}

// Metric is one measured metric and the conditions it is judged by.
type Metric struct {
	Name                  string              `json:"name"`
	Interval              string              `json:"interval,omitempty"`
	InitialDelay          string              `json:"initialDelay,omitempty"`
	Count                 *intstr.IntOrString `json:"count,omitempty"`
	SuccessCondition      string              `json:"successCondition,omitempty"`
	FailureCondition      string              `json:"failureCondition,omitempty"`
	FailureLimit          *intstr.IntOrString `json:"failureLimit,omitempty"`
	InconclusiveLimit     *intstr.IntOrString `json:"inconclusiveLimit,omitempty"`
	ConsecutiveErrorLimit *intstr.IntOrString `json:"consecutiveErrorLimit,omitempty"`
	Provider              MetricProvider      `json:"provider"`
}

// MetricProvider is the metric's provider, kept raw by name: "prometheus", "web",
// "datadog", "job", ... (only which one, and Prometheus' query, are shown).
type MetricProvider map[string]json.RawMessage

// Names are the providers set, sorted (one in a valid metric).
func (p MetricProvider) Names() []string {
	names := make([]string, 0, len(p))
	for name := range p {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Prometheus is the Prometheus provider's address and query, if that is the provider.
func (p MetricProvider) Prometheus() (PrometheusMetric, bool) {
	var m PrometheusMetric
	raw, ok := p["prometheus"]
	if !ok || json.Unmarshal(raw, &m) != nil {
		return PrometheusMetric{}, false
	}
	return m, true
}

// PrometheusMetric is a Prometheus query.
type PrometheusMetric struct {
	Address string `json:"address,omitempty"`
	Query   string `json:"query,omitempty"`
}

// AnalysisRunStatus is an AnalysisRun's results.
type AnalysisRunStatus struct {
	Phase         string         `json:"phase"`
	Message       string         `json:"message,omitempty"`
	MetricResults []MetricResult `json:"metricResults,omitempty"`
	StartedAt     *metav1.Time   `json:"startedAt,omitempty"`
	RunSummary    RunSummary     `json:"runSummary,omitempty"`
	CompletedAt   *metav1.Time   `json:"completedAt,omitempty"`
}

// MetricResult is one metric's measurements and counts.
type MetricResult struct {
	Name             string        `json:"name"`
	Phase            string        `json:"phase"`
	Measurements     []Measurement `json:"measurements,omitempty"`
	Message          string        `json:"message,omitempty"`
	Count            int32         `json:"count,omitempty"`
	Successful       int32         `json:"successful,omitempty"`
	Failed           int32         `json:"failed,omitempty"`
	Inconclusive     int32         `json:"inconclusive,omitempty"`
	Error            int32         `json:"error,omitempty"`
	ConsecutiveError int32         `json:"consecutiveError,omitempty"`
	DryRun           bool          `json:"dryRun,omitempty"`
}

// Measurement is one measured value.
type Measurement struct {
	Phase      string       `json:"phase"`
	Message    string       `json:"message,omitempty"`
	StartedAt  *metav1.Time `json:"startedAt,omitempty"`
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	Value      string       `json:"value,omitempty"`
}

// RunSummary counts an AnalysisRun's metrics by phase.
type RunSummary struct {
	Count        int32 `json:"count,omitempty"`
	Successful   int32 `json:"successful,omitempty"`
	Failed       int32 `json:"failed,omitempty"`
	Inconclusive int32 `json:"inconclusive,omitempty"`
	Error        int32 `json:"error,omitempty"`
}

// Analysis phases.
const (
	AnalysisPending      = "Pending"
	AnalysisRunning      = "Running"
	AnalysisSuccessful   = "Successful"
	AnalysisFailed       = "Failed"
	AnalysisError        = "Error"
	AnalysisInconclusive = "Inconclusive"
)

// DeepCopyObject copies through JSON: these objects are copied rarely (a fake clientset, an
// informer's transform), and a hand-written copy of every nested pointer would be a place for
// bugs to hide.
func (r *Rollout) DeepCopyObject() runtime.Object { return deepCopy(r) }

// DeepCopyObject copies the list.
func (r *RolloutList) DeepCopyObject() runtime.Object { return deepCopy(r) }

// DeepCopyObject copies the AnalysisRun.
func (a *AnalysisRun) DeepCopyObject() runtime.Object { return deepCopy(a) }

// DeepCopyObject copies the list.
func (a *AnalysisRunList) DeepCopyObject() runtime.Object { return deepCopy(a) }

// DeepCopy copies the Rollout.
func (r *Rollout) DeepCopy() *Rollout { return deepCopy(r) }

func deepCopy[T any](in *T) *T {
	if in == nil {
		return nil
	}
	raw, err := json.Marshal(in)
	if err != nil {
		panic(err) // only types of this file get here, and they always marshal
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		panic(err)
	}
	return out
}
