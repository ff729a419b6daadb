package argo

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// This file summarises AnalysisRuns the way argo-rollouts v1.10.1's plugin selects them
// (pkg/kubectl-argo-rollouts/info/analysisrun_info.go: owned by the rollout) and judges them
// (analysis/analysis.go: the limits and their defaults), but shows the measured values and
// the condition each was judged by, which argo's plugin leaves out.

// lastValues is how many measured values a MetricView keeps.
const lastValues = 3

// maxValueLen bounds one measured value: a query may return a vector of any length.
const maxValueLen = 200

// ownerKindRollout is the kind of a Rollout's ownerReference on its AnalysisRuns.
const ownerKindRollout = "Rollout"

// analysesOf selects the runs of the revision podHash owned by ro, newest first.
func analysesOf(ro *Rollout, runs []*AnalysisRun, podHash string) []AnalysisView {
	var mine []*AnalysisRun
	for _, run := range runs {
		if run == nil || run.Labels[PodTemplateHashLabel] != podHash || !ownedBy(run, ro) {
			continue
		}
		mine = append(mine, run)
	}
	// Newest first. Runs started by one reconcile share a creationTimestamp (to the second):
	// then by name, descending, as argo's plugin breaks its ties.
	sort.SliceStable(mine, func(i, j int) bool {
		ti, tj := mine[i].CreationTimestamp, mine[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return tj.Before(&ti)
		}
		return mine[i].Name > mine[j].Name
	})
	out := make([]AnalysisView, 0, len(mine))
	for _, run := range mine {
		out = append(out, analysisView(run))
	}
	return out
}

// ownedBy follows argo: pkg/kubectl-argo-rollouts/info.ownerRef (the owner's UID), narrowed
// to an owner of kind Rollout.
func ownedBy(run *AnalysisRun, ro *Rollout) bool {
	if ro.UID == "" {
		return false
	}
	for _, ref := range run.OwnerReferences {
		if ref.UID == ro.UID && ref.Kind == ownerKindRollout {
			return true
		}
	}
	return false
}

func analysisView(run *AnalysisRun) AnalysisView {
	v := AnalysisView{
		Name:    string(safetext.Line(run.Name)),
		Type:    safetext.Line(run.Labels[RolloutTypeLabel]),
		Phase:   safetext.Line(run.Status.Phase),
		Message: safetext.Line(run.Status.Message),
	}
	if v.Phase == "" {
		v.Phase = AnalysisPending // not reconciled yet
	}
	results := make(map[string]*MetricResult, len(run.Status.MetricResults))
	for i := range run.Status.MetricResults {
		results[run.Status.MetricResults[i].Name] = &run.Status.MetricResults[i]
	}
	seen := map[string]bool{}
	for _, m := range run.Spec.Metrics {
		seen[m.Name] = true
		v.Metrics = append(v.Metrics, metricView(&m, results[m.Name]))
	}
	// A result whose metric is not in the spec (not written by argo, but not to be hidden).
	for i := range run.Status.MetricResults {
		if r := &run.Status.MetricResults[i]; !seen[r.Name] {
			v.Metrics = append(v.Metrics, metricView(&Metric{Name: r.Name}, r))
		}
	}
	return v
}

func metricView(m *Metric, r *MetricResult) MetricView {
	v := MetricView{
		Name:              safetext.Line(m.Name),
		Phase:             AnalysisPending,
		Provider:          safetext.Line(strings.Join(m.Provider.Names(), ",")),
		SuccessCondition:  safetext.Line(m.SuccessCondition),
		FailureCondition:  safetext.Line(m.FailureCondition),
		FailureLimit:      limitOrDefault(m.FailureLimit),
		InconclusiveLimit: limitOrDefault(m.InconclusiveLimit),
	}
	if r == nil {
		return v
	}
	if r.Phase != "" {
		v.Phase = safetext.Line(r.Phase)
	}
	v.Count, v.Successful, v.Failed, v.Inconclusive, v.Errors = r.Count, r.Successful, r.Failed, r.Inconclusive, r.Error
	v.DryRun = r.DryRun
	for i := len(r.Measurements) - 1; i >= 0 && len(v.Values) < lastValues; i-- {
		if val := r.Measurements[i].Value; val != "" {
			v.Values = append([]safetext.Text{safetext.LineN(displayValue(val), maxValueLen)}, v.Values...)
		}
	}
	if n := len(r.Measurements); n > 0 {
		v.LastPhase = safetext.Line(r.Measurements[n-1].Phase)
	}
	v.Message = safetext.Line(r.Message)
	for i := len(r.Measurements) - 1; v.Message == "" && i >= 0; i-- {
		if ms := r.Measurements[i]; ms.Message != "" && (ms.Phase == AnalysisFailed || ms.Phase == AnalysisError) {
			v.Message = safetext.Line(ms.Message)
		}
	}
	return v
}

// limitOrDefault follows argo: analysis/analysis.go assessMetricFailureInconclusiveOrError:
// an unset failureLimit or inconclusiveLimit is 0, and the IntOrString is read with
// IntValue (a string "1" is 1, an unparsable string 0).
func limitOrDefault(l *intstr.IntOrString) int32 {
	if l == nil {
		return 0
	}
	return int32(l.IntValue())
}

// displayValue strips the brackets of a one-element vector: argo's Prometheus provider
// stores a vector result as "[v1,v2,...]" (metricproviders/prometheus.sampleValuesToResultStr),
// and most queries return one sample.
func displayValue(v string) string {
	if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
		inner := v[1 : len(v)-1]
		if !strings.ContainsAny(inner, "[],") {
			return inner
		}
	}
	return v
}

// metricString is MetricView.String.
func metricString(m MetricView) safetext.Text {
	var b safetext.Builder
	b.WriteText(m.Name)
	if m.DryRun {
		b.WriteText(" (dry-run)")
	}
	b.WriteText(":")
	if m.LastPhase == "" && m.Count == 0 && m.Errors == 0 {
		b.WriteText(" no measurement yet")
		if w := whenString(m); w != "" {
			b.WriteText(", " + w)
		}
		if m.Message != "" {
			b.WriteText(" - " + m.Message)
		}
		return b.Text()
	}
	n := len(m.Values)
	shown := make([]safetext.Text, n)
	for i, v := range m.Values {
		shown[i] = safetext.Line(readableValue(string(v), false))
	}
	if valued(string(m.LastPhase)) {
		// The last measurement has the last value: lead with it.
		if n > 0 {
			ratio := isRatio(string(m.Name), string(m.SuccessCondition), string(m.FailureCondition))
			b.WriteText(" " + safetext.Line(readableValue(string(m.Values[n-1]), ratio)))
		}
		if n > 1 {
			b.Printf(" (last %d: %s)", n, safetext.Join(shown, " "))
		}
		if j := judgement(m); j != "" {
			b.WriteText(" " + j)
		}
	} else {
		// The last measurement errored or is running: its value is not the last one shown.
		if j := judgement(m); j != "" {
			b.WriteText(" " + j)
		}
		if n > 0 {
			b.Printf(" (last %d: %s)", n, safetext.Join(shown, " "))
		}
	}
	b.Printf(" %d/%d", m.Failed, m.Count)
	if m.FailureLimit >= 0 {
		b.Printf(" failureLimit %d", m.FailureLimit)
	} else {
		b.WriteText(" no failureLimit") // argo: a negative failureLimit is not applied
	}
	if m.Inconclusive > 0 {
		b.Printf(" inconclusive %d/%d", m.Inconclusive, m.InconclusiveLimit)
	}
	if m.Errors > 0 {
		b.Printf(" errors %d", m.Errors)
	}
	if m.Message != "" {
		b.WriteText(" - " + m.Message)
	}
	return b.Text()
}

// valued: a measurement of this phase was judged on a value (argo stores one with it).
func valued(phase string) bool {
	return phase == AnalysisSuccessful || phase == AnalysisFailed || phase == AnalysisInconclusive
}

// judgement reads the last measurement's phase against the conditions the way argo's
// utils/evaluate.EvaluateResult decided it: with only a successCondition a measurement fails
// when it is false; with only a failureCondition it passes when that is false; with both,
// neither being true is inconclusive.
func judgement(m MetricView) safetext.Text {
	sc, fc := quote(m.SuccessCondition), quote(m.FailureCondition)
	switch m.LastPhase {
	case AnalysisFailed:
		if fc != "" {
			return "meets failure " + fc
		}
		if sc != "" {
			return "fails " + sc
		}
		return "failed"
	case AnalysisSuccessful:
		if sc != "" {
			return "passes " + sc
		}
		if fc != "" {
			return "does not meet failure " + fc
		}
		return "passes"
	case AnalysisInconclusive:
		switch {
		case sc != "" && fc != "":
			return "inconclusive: neither " + sc + " nor failure " + fc
		default:
			return "inconclusive"
		}
	case AnalysisError:
		return "errored"
	case AnalysisRunning, AnalysisPending:
		return "measuring"
	}
	return ""
}

// whenString says what a metric not measured yet will be judged by.
func whenString(m MetricView) safetext.Text {
	sc, fc := quote(m.SuccessCondition), quote(m.FailureCondition)
	switch {
	case sc != "" && fc != "":
		return "passes when " + sc + ", fails when " + fc
	case sc != "":
		return "passes when " + sc
	case fc != "":
		return "fails when " + fc
	}
	return ""
}

func quote(cond safetext.Text) safetext.Text {
	if cond == "" {
		return ""
	}
	return "`" + cond + "`"
}
