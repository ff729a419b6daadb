// Package metrics reads error rate, request rate and latency per revision from Prometheus:
// one instant query per metric per namespace, grouped by pod, then summed per revision
// through the pods the informers already hold, so the cost does not grow with the number
// of services.
package metrics

import (
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// State says whether a revision's numbers can be trusted, and never shows a missing value
// as 0%.
type State string

const (
	StateOK          State = "ok"
	StateNoData      State = "no data"    // no series for the revision's pods
	StateNoTraffic   State = "no traffic" // series, but no requests in the window
	StateUnreachable State = "unreachable"
	// StateOutOfStep: more errors than requests, which no rate can be made of (the two
	// counters were read a scrape apart, or one was reset).
	StateOutOfStep State = "counters out of step"
)

// Revision is one revision's numbers at one moment.
type Revision struct {
	State State `json:"state"`
	// ErrorRate is the fraction of requests answered 5xx (0..1); valid when State is ok.
	ErrorRate float64 `json:"errorRate"`
	// RequestRate is requests per second over the window.
	RequestRate float64 `json:"requestRate"`
	// P95 is the 95th percentile latency; 0 when the histogram is absent.
	P95 time.Duration `json:"p95"`
	// History holds the last error rates (oldest first) for a sparkline; NaN marks a gap.
	History []float64 `json:"history,omitempty"`
	// Python is the version python_info reports for the revision's pods ("" when not
	// exported; the most common one when pods disagree).
	Python safetext.Text `json:"python,omitempty"`
	// P95History holds the last p95 latencies in seconds, like History.
	P95History []float64 `json:"p95History,omitempty"`
}

// Key names a revision across snapshots: its rollout (kind included) and number.
type Key struct {
	Rollout  ref.Rollout
	Revision int64
}

// KeyOf is the key of one revision of a rollout.
func KeyOf(r *rollout.Rollout, revision int64) Key {
	return Key{Rollout: r.Ref(), Revision: revision}
}

// Of is the numbers of one revision of a rollout, if the report has them.
func (r Report) Of(ro *rollout.Rollout, revision int64) (Revision, bool) {
	v, ok := r.Revisions[KeyOf(ro, revision)]
	return v, ok
}

// Report is the numbers of every revision in scope at one moment.
type Report struct {
	At        time.Time
	Revisions map[Key]Revision
	// Err is why Prometheus could not be read (then every revision is unreachable); its
	// message is safe to print (safetext.Error), since Prometheus' answer is in it.
	Err error
	// Preset names the exporter families the queries were written for ("a,b").
	Preset safetext.Text
	// Warnings are Prometheus' own (e.g. partial answers) and configuration mistakes
	// found while reading, e.g. an unknown preset named in an annotation.
	Warnings []safetext.Text
	// Baselines are the before-release numbers of the rollouts in their bake window (by
	// rollout; Report.Baseline checks that one is of the current window).
	Baselines map[ref.Rollout]Baseline
	// Off are the contexts without a Prometheus, several contexts being in view: their
	// rows say "metrics off", not "no data".
	Off map[string]bool
}

// MetricsOff says whether r's context has no Prometheus (several contexts in view).
func (r Report) MetricsOff(ro *rollout.Rollout) bool { return ro.Cluster != "" && r.Off[ro.Cluster] }

// HistoryLength is how many past values a sparkline shows.
const HistoryLength = 30
