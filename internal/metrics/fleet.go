package metrics

import (
	"errors"
	"strings"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// ContextReport is one context's latest report among several (--contexts): each context
// has its own Prometheus.
type ContextReport struct {
	Context string
	Report  Report
	// Off: the context has no Prometheus; Report is empty.
	Off bool
}

// MergeReports is one report of several contexts' (their keys already name their
// context: ref.Rollout.Cluster). A context whose Prometheus failed has its revisions
// unreachable and its error among the warnings, naming it; the merged report fails only
// when every context's did. At is the latest.
func MergeReports(reports []ContextReport) Report {
	merged := Report{Revisions: map[Key]Revision{}}
	var errs []string
	var presets []safetext.Text
	for _, cr := range reports {
		if cr.Off {
			if merged.Off == nil {
				merged.Off = map[string]bool{}
			}
			merged.Off[cr.Context] = true
			continue
		}
		r := cr.Report
		if r.At.After(merged.At) {
			merged.At = r.At
		}
		for k, v := range r.Revisions {
			merged.Revisions[k] = v
		}
		for k, v := range r.Baselines {
			if merged.Baselines == nil {
				merged.Baselines = map[ref.Rollout]Baseline{}
			}
			merged.Baselines[k] = v
		}
		for _, w := range r.Warnings {
			merged.Warnings = append(merged.Warnings, safetext.Sprintf("context %s: ", cr.Context)+w)
		}
		if r.Err != nil {
			errs = append(errs, "context "+cr.Context+": "+r.Err.Error())
		}
		if r.Preset != "" && !containsText(presets, r.Preset) {
			presets = append(presets, r.Preset)
		}
	}
	merged.Preset = safetext.Join(presets, ",")
	switch {
	case len(errs) == 0:
	case len(errs) == len(reports)-len(merged.Off):
		merged.Err = safetext.Error(errors.New(strings.Join(errs, "; ")))
	default:
		// The others' numbers stand; the failing context's rows say unreachable.
		for _, e := range errs {
			merged.Warnings = append(merged.Warnings, safetext.Line(e))
		}
	}
	return merged
}

func containsText(texts []safetext.Text, t safetext.Text) bool {
	for _, x := range texts {
		if x == t {
			return true
		}
	}
	return false
}
