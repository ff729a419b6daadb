package argo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

func readJSON(t *testing.T, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// testRuns are testdata/analysisruns.json (as `kubectl get analysisruns -o json` lists them)
// and the rollout they belong to.
func testRuns(t *testing.T) (*Rollout, []*AnalysisRun) {
	t.Helper()
	ro := &Rollout{}
	readJSON(t, "rollout-canary.json", ro)
	var list AnalysisRunList
	readJSON(t, "analysisruns.json", &list)
	runs := make([]*AnalysisRun, len(list.Items))
	for i := range list.Items {
		runs[i] = &list.Items[i]
	}
	return ro, runs
}

func TestAnalysesOf(t *testing.T) {
	ro, runs := testRuns(t)
	got := AnalysesOf(ro, runs, ro.Status.CurrentPodHash)

	// Newest first; the stable revision's run and another rollout's run are left out.
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
	}
	if want := []string{"guestbook-6c4f9d8b7-3-2", "guestbook-6c4f9d8b7-3"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("runs = %v, want %v", names, want)
	}

	step, bg := got[0], got[1]
	if step.Type != "Step" || step.Phase != AnalysisFailed || step.Message != `Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)` {
		t.Errorf("step run: %+v", step)
	}
	if bg.Type != "Background" || bg.Phase != AnalysisError {
		t.Errorf("background run: %+v", bg)
	}

	wantErrorRate := MetricView{
		Name: "error-rate", Phase: AnalysisFailed, Provider: "prometheus",
		Values: []safetext.Text{"0.048", "0.052"}, LastPhase: AnalysisFailed,
		SuccessCondition: "result[0] < 0.01",
		Count:            2, Failed: 2, FailureLimit: 1,
	}
	if !reflect.DeepEqual(step.Metrics[0], wantErrorRate) {
		t.Errorf("error-rate:\n got %+v\nwant %+v", step.Metrics[0], wantErrorRate)
	}

	wantLines := [][]string{
		{
			"error-rate: 0.052 (5.2%) (last 2: 0.048 0.052) fails `result[0] < 0.01` 2/2 failureLimit 1",
			"p99-latency: 0.18 (last 3: 0.19 0.2 0.18) passes `result[0] <= 0.25` 0/4 failureLimit 0",
		},
		{
			"success-rate: 0.96 (96%) (last 3: 0.995 0.97 0.96) inconclusive: neither `result[0] >= 0.99` nor failure `result[0] < 0.95` 0/3 failureLimit 2 inconclusive 2/1",
			"queue-depth: errored (last 1: 12) 0/1 failureLimit 0 errors 5 - " +
				`Get "http://queue-exporter.shop.svc:9102/depth": dial tcp 10.0.4.17:9102: connect: connection refused`,
			"saturation: no measurement yet, passes when `result[0] < 0.8`",
		},
	}
	for i, a := range got {
		var lines []string
		for _, m := range a.Metrics {
			lines = append(lines, m.String())
		}
		if !reflect.DeepEqual(lines, wantLines[i]) {
			t.Errorf("%s:\n got %s\nwant %s", a.Name, strings.Join(lines, "\n     "), strings.Join(wantLines[i], "\n     "))
		}
	}
	// The limits given as strings ("2", "1") are read as argo reads them.
	if m := bg.Metrics[0]; m.FailureLimit != 2 || m.InconclusiveLimit != 1 || m.Phase != AnalysisInconclusive {
		t.Errorf("success-rate limits: %+v", m)
	}
	if m := bg.Metrics[2]; m.Phase != AnalysisPending || m.Provider != "prometheus" {
		t.Errorf("saturation without result: %+v", m)
	}
	if m := bg.Metrics[1]; m.Provider != "web" || m.Errors != 5 {
		t.Errorf("queue-depth: %+v", m)
	}

	if got := AnalysesOf(ro, runs, ro.Status.StableRS); len(got) != 1 || got[0].Name != "guestbook-7d9f8c5b6-2-2" {
		t.Errorf("stable revision's runs: %+v", got)
	}
	if got := AnalysesOf(ro, runs, "nothing"); len(got) != 0 {
		t.Errorf("unknown hash: %+v", got)
	}
}

func TestAnalysesOfOwnership(t *testing.T) {
	ro, runs := testRuns(t)
	run := runs[3].DeepCopyObject().(*AnalysisRun) // guestbook-6c4f9d8b7-3-2
	// An Experiment's run carries the pod hash label too, but the Experiment owns it.
	run.OwnerReferences = []metav1.OwnerReference{{Kind: "Experiment", Name: "guestbook-6c4f9d8b7-3-6", UID: ro.UID}}
	if got := AnalysesOf(ro, []*AnalysisRun{run}, ro.Status.CurrentPodHash); len(got) != 0 {
		t.Errorf("owned by an Experiment: %+v", got)
	}
	run.OwnerReferences = []metav1.OwnerReference{{Kind: "Rollout", Name: "guestbook", UID: types.UID("other")}}
	if got := AnalysesOf(ro, []*AnalysisRun{run}, ro.Status.CurrentPodHash); len(got) != 0 {
		t.Errorf("owned by another Rollout: %+v", got)
	}
	// A Rollout built in memory (no UID) does not match an ownerReference without one either.
	unsaved := &Rollout{}
	run.OwnerReferences = []metav1.OwnerReference{{Kind: "Rollout", Name: "guestbook"}}
	if got := AnalysesOf(unsaved, []*AnalysisRun{run, nil}, ro.Status.CurrentPodHash); len(got) != 0 {
		t.Errorf("a rollout without UID owns nothing: %+v", got)
	}
}

func TestAnalysesOfOrder(t *testing.T) {
	ro := &Rollout{ObjectMeta: metav1.ObjectMeta{UID: "u"}}
	at := func(name string, sec int) *AnalysisRun {
		return &AnalysisRun{ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			CreationTimestamp: metav1.Unix(1_700_000_000+int64(sec), 0),
			Labels:            map[string]string{PodTemplateHashLabel: "h"},
			OwnerReferences:   []metav1.OwnerReference{{Kind: "Rollout", UID: "u"}},
		}}
	}
	runs := []*AnalysisRun{at("ro-h-3-1", 0), at("ro-h-3", 5), at("ro-h-3-4", 60), at("ro-h-3-2", 5)}
	var names []string
	for _, a := range AnalysesOf(ro, runs, "h") {
		names = append(names, a.Name)
	}
	if want := []string{"ro-h-3-4", "ro-h-3-2", "ro-h-3", "ro-h-3-1"}; !reflect.DeepEqual(names, want) {
		t.Errorf("order = %v, want %v (newest first, ties by name descending)", names, want)
	}
}

// argo's own AnalysisRuns (pkg/kubectl-argo-rollouts/info/testdata).
func TestAnalysesOfArgoTestdata(t *testing.T) {
	tests := []struct {
		rollout, run string
		want         AnalysisView
		line         string
	}{
		{
			rollout: "argo-v1.10.1/rollout-aborted_rollout.json",
			run:     "argo-v1.10.1/rollout-aborted_analysisrun.json",
			want: AnalysisView{
				Name: "rollout-background-analysis-db976bc44-2", Type: "Background", Phase: AnalysisFailed,
				Message: `metric "web" assessed Failed due to failed (1) > failureLimit (0)`,
			},
			line: "web: false fails `result == \"true\"` 1/1 failureLimit 0",
		},
		{
			rollout: "argo-v1.10.1/experiment-analysis_rollout-experiment-analysis.json",
			run:     "argo-v1.10.1/experiment-analysis_canary-analysis.json",
			want: AnalysisView{
				Name: "rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr", Type: "Background", Phase: AnalysisInconclusive,
			},
			// A Job metric: no values, counts only.
			line: "random-fail: passes 4/8 failureLimit 5 inconclusive 1/1 errors 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.run, func(t *testing.T) {
			ro, run := &Rollout{}, &AnalysisRun{}
			readJSON(t, tt.rollout, ro)
			readJSON(t, tt.run, run)
			got := AnalysesOf(ro, []*AnalysisRun{run}, ro.Status.CurrentPodHash)
			if len(got) != 1 {
				t.Fatalf("AnalysesOf = %+v, want the run", got)
			}
			metrics := got[0].Metrics
			got[0].Metrics = nil
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("run:\n got %+v\nwant %+v", got[0], tt.want)
			}
			if len(metrics) != 1 || metrics[0].String() != tt.line {
				t.Errorf("metric line = %q, want %q", metrics, tt.line)
			}
		})
	}
}

func TestMetricViewString(t *testing.T) {
	base := MetricView{Name: "error-rate", SuccessCondition: "result[0] < 0.01", FailureLimit: 1}
	with := func(f func(*MetricView)) MetricView {
		m := base
		f(&m)
		return m
	}
	tests := []struct {
		name string
		m    MetricView
		want string
	}{
		{"the brief's example", with(func(m *MetricView) {
			m.Values, m.LastPhase, m.Count, m.Failed = []safetext.Text{"0.048", "0.051", "0.052"}, AnalysisFailed, 2, 2
		}), "error-rate: 0.052 (5.2%) (last 3: 0.048 0.051 0.052) fails `result[0] < 0.01` 2/2 failureLimit 1"},
		{"one value: no list", with(func(m *MetricView) {
			m.Values, m.LastPhase, m.Count, m.Successful = []safetext.Text{"0.004"}, AnalysisSuccessful, 1, 1
		}), "error-rate: 0.004 (0.4%) passes `result[0] < 0.01` 0/1 failureLimit 1"},
		{"failure condition met", MetricView{
			Name: "5xx", FailureCondition: "result[0] > 5", Values: []safetext.Text{"9"}, LastPhase: AnalysisFailed, Count: 1, Failed: 1,
		}, "5xx: 9 meets failure `result[0] > 5` 1/1 failureLimit 0"},
		{"failure condition not met", MetricView{
			Name: "5xx", FailureCondition: "result[0] > 5", Values: []safetext.Text{"1"}, LastPhase: AnalysisSuccessful, Count: 1, Successful: 1,
		}, "5xx: 1 does not meet failure `result[0] > 5` 0/1 failureLimit 0"},
		{"both conditions, failure met", MetricView{
			Name: "sr", SuccessCondition: "result >= 0.99", FailureCondition: "result < 0.95", Values: []safetext.Text{"0.9"}, LastPhase: AnalysisFailed, Count: 1, Failed: 1,
		}, "sr: 0.9 meets failure `result < 0.95` 1/1 failureLimit 0"},
		{"no conditions", MetricView{
			Name: "job", Provider: "job", LastPhase: AnalysisSuccessful, Count: 2, Successful: 2,
		}, "job: passes 0/2 failureLimit 0"},
		{"no conditions, failed", MetricView{
			Name: "job", Provider: "job", LastPhase: AnalysisFailed, Count: 1, Failed: 1,
		}, "job: failed 1/1 failureLimit 0"},
		{"inconclusive with one condition", with(func(m *MetricView) {
			m.Values, m.LastPhase, m.Count, m.Inconclusive, m.InconclusiveLimit = []safetext.Text{"x"}, AnalysisInconclusive, 1, 1, 0
		}), "error-rate: x inconclusive 0/1 failureLimit 1 inconclusive 1/0"},
		{"measuring", with(func(m *MetricView) {
			m.Values, m.LastPhase, m.Count, m.Successful = []safetext.Text{"0.001"}, AnalysisRunning, 1, 1
		}), "error-rate: measuring (last 1: 0.001) 0/1 failureLimit 1"},
		{"errored with the message", with(func(m *MetricView) {
			m.LastPhase, m.Errors, m.Message = AnalysisError, 1, "Post \"http://prom:9090/api/v1/query\": EOF"
		}), "error-rate: errored 0/0 failureLimit 1 errors 1 - Post \"http://prom:9090/api/v1/query\": EOF"},
		{"no failureLimit", with(func(m *MetricView) {
			m.Values, m.LastPhase, m.Count, m.Failed, m.FailureLimit = []safetext.Text{"0.2"}, AnalysisFailed, 3, 3, -1
		}), "error-rate: 0.2 (20%) fails `result[0] < 0.01` 3/3 no failureLimit"},
		{"dry-run", with(func(m *MetricView) {
			m.DryRun, m.Values, m.LastPhase, m.Count, m.Failed = true, []safetext.Text{"0.2"}, AnalysisFailed, 1, 1
		}), "error-rate (dry-run): 0.2 (20%) fails `result[0] < 0.01` 1/1 failureLimit 1"},
		{"no measurement yet", base, "error-rate: no measurement yet, passes when `result[0] < 0.01`"},
		{"no measurement yet, both conditions", MetricView{Name: "sr", SuccessCondition: "a", FailureCondition: "b"},
			"sr: no measurement yet, passes when `a`, fails when `b`"},
		{"no measurement yet, failure condition", MetricView{Name: "sr", FailureCondition: "b"},
			"sr: no measurement yet, fails when `b`"},
		{"no measurement yet, no condition, a message", MetricView{Name: "sr", Message: "args.service not resolved"},
			"sr: no measurement yet - args.service not resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.String(); got != tt.want {
				t.Errorf("String =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestMetricViewFromResult(t *testing.T) {
	metric := &Metric{
		Name:              "error-rate",
		SuccessCondition:  "result[0] < 0.01",
		FailureLimit:      ptr.To(intstr.FromString("3")),
		InconclusiveLimit: ptr.To(intstr.FromInt32(2)),
		Provider:          MetricProvider{"prometheus": json.RawMessage(`{"query":"q"}`)},
	}
	ms := func(phase, value, msg string) Measurement {
		return Measurement{Phase: phase, Value: value, Message: msg}
	}
	result := &MetricResult{
		Name: "error-rate", Phase: AnalysisRunning, Count: 5, Successful: 1, Failed: 3, Inconclusive: 1, Error: 1, DryRun: true,
		Measurements: []Measurement{
			ms(AnalysisSuccessful, "[0.001]", ""),
			ms(AnalysisFailed, "[0.5]", "above"),
			ms(AnalysisError, "", "timeout"),
			ms(AnalysisFailed, "[0.2,0.3]", ""),
			ms(AnalysisInconclusive, "[]", ""),
			ms(AnalysisSuccessful, "", "a message of a passed measurement is not the reason"),
			ms(AnalysisRunning, "", ""),
		},
	}
	want := MetricView{
		Name: "error-rate", Phase: AnalysisRunning, Provider: "prometheus",
		Values:    []safetext.Text{"0.5", "[0.2,0.3]", "[]"}, // a vector of several, or none, keeps its brackets
		LastPhase: AnalysisRunning, SuccessCondition: "result[0] < 0.01",
		Count: 5, Successful: 1, Failed: 3, Inconclusive: 1, Errors: 1,
		FailureLimit: 3, InconclusiveLimit: 2, DryRun: true,
		Message: "timeout", // the last failed or errored measurement's
	}
	if got := metricView(metric, result); !reflect.DeepEqual(got, want) {
		t.Errorf("metricView:\n got %+v\nwant %+v", got, want)
	}
	result.Message = "Metric assessed Failed due to failed (3) > failureLimit (3)"
	if got := metricView(metric, result); string(got.Message) != result.Message {
		t.Errorf("the result's message first: %q", got.Message)
	}
	// A result whose metric is not in the spec is still shown, after the spec's.
	run := &AnalysisRun{
		Spec:   AnalysisRunSpec{Metrics: []Metric{*metric}},
		Status: AnalysisRunStatus{MetricResults: []MetricResult{{Name: "orphan", Phase: AnalysisFailed, Count: 1, Failed: 1}, *result}},
	}
	if v := analysisView(run); len(v.Metrics) != 2 || v.Metrics[0].Name != "error-rate" || v.Metrics[1].Name != "orphan" || v.Metrics[1].Failed != 1 {
		t.Errorf("metrics = %+v", v.Metrics)
	}
	if got := metricView(&Metric{Name: "m"}, nil); got.FailureLimit != 0 || got.InconclusiveLimit != 0 || got.Phase != AnalysisPending {
		t.Errorf("defaults: %+v", got)
	}
}

func TestDisplayValue(t *testing.T) {
	for in, want := range map[string]string{
		"[0.052]":         "0.052",
		"[0.1,0.2]":       "[0.1,0.2]",
		"[]":              "[]",
		"[[1]]":           "[[1]]",
		"0.052":           "0.052",
		"[NaN]":           "NaN",
		`{"depth":12}`:    `{"depth":12}`,
		"[1.5e-05]":       "1.5e-05",
		"[":               "[",
		"[0.052] [0.053]": "[0.052] [0.053]",
	} {
		if got := displayValue(in); got != want {
			t.Errorf("displayValue(%q) = %q, want %q", in, got, want)
		}
	}
}
