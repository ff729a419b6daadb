package metrics

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// BaselineWindow is how far before a release its previous revision's numbers are read:
// the rate over the minutes before the new ReplicaSet was created.
const BaselineWindow = 10 * time.Minute

// Baseline is what the revision that served before a release measured before it: the
// numbers a release in its bake window is compared with when it has no absolute threshold.
// Its pods are gone; their series are not.
type Baseline struct {
	// Revision is the previous revision; ReplicaSet its ReplicaSet (whose pods are read).
	Revision   int64  `json:"revision"`
	ReplicaSet string `json:"replicaSet"`
	// Preset is the preset the release is read with, the same queries.
	Preset string `json:"preset"`
	// From and To bound the window: To is the release (the new ReplicaSet's creation).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// State, ErrorRate and RequestRate as for a revision (never 0% without numbers).
	State       State   `json:"state"`
	ErrorRate   float64 `json:"errorRate"`
	RequestRate float64 `json:"requestRate"`
	// P95 is the 95th percentile latency over the window; 0 when the preset reads no
	// histogram or the window has none.
	P95 time.Duration `json:"p95,omitempty"`
}

// Window is the baseline's length.
func (b Baseline) Window() time.Duration { return b.To.Sub(b.From) }

// For reports whether the baseline is the one of the rollout's current bake window: the
// same previous revision, read up to the same release.
func (b Baseline) For(r *rollout.Rollout) bool {
	return r.Bake != nil && b.Revision == r.Bake.Previous && b.ReplicaSet == r.Bake.PreviousReplicaSet && b.To.Equal(r.Bake.ReleasedAt)
}

// Baseline is the rollout's before-release baseline in this report, if it has one for its
// current bake window.
func (r Report) Baseline(ro *rollout.Rollout) (Baseline, bool) {
	b, ok := r.Baselines[ro.Ref()]
	if !ok || !b.For(ro) {
		return Baseline{}, false
	}
	return b, true
}

// baselineSeries labels the two halves of the baseline query's answer.
const baselineSeries = "pyroll_baseline"

// BaselineQuery is the one query that reads a release's baseline with the preset: the
// requests, errors and (where the preset reads a histogram) latency buckets of the previous
// revision's pods (by name: a ReplicaSet's pods are named after it), each rate over
// BaselineWindow, labelled requests, errors or buckets, to be evaluated at the release.
// One series per pod (and bucket), as the preset's queries answer.
func (p Preset) BaselineQuery(namespace, replicaSet string) string {
	params := templateParams{
		Selector:  Selector(namespace) + fmt.Sprintf(`, pod=~%q`, regexp.QuoteMeta(replicaSet)+"-[a-z0-9]+"),
		Namespace: namespace,
		Window:    promDuration(BaselineWindow),
	}
	halves := []string{
		fmt.Sprintf(`label_replace(%s, %q, "requests", "", "")`, render(p.requests, params), baselineSeries),
		fmt.Sprintf(`label_replace(%s, %q, "errors", "", "")`, render(p.errors, params), baselineSeries),
	}
	if p.buckets != nil {
		halves = append(halves, fmt.Sprintf(`label_replace(%s, %q, "buckets", "", "")`, render(p.buckets, params), baselineSeries))
	}
	return strings.Join(halves, " or ")
}

// BaselineSample is one series of the baseline query's answer.
type BaselineSample struct {
	Pod, Series string // Series: the pyroll_baseline label, requests, errors or buckets
	// Le is a bucket's upper bound (the le label), for Series buckets.
	Le    string
	Value float64
}

// SumBaseline sums the answer over the previous revision's pods (named after its
// ReplicaSet: a custom preset may not select by {{.Selector}}) into a baseline's state
// and rates.
func SumBaseline(b Baseline, samples []BaselineSample) Baseline {
	var requests, errors float64
	buckets := map[float64]float64{}
	seen := false
	for _, s := range samples {
		if !strings.HasPrefix(s.Pod, b.ReplicaSet+"-") || math.IsNaN(s.Value) {
			continue
		}
		switch s.Series {
		case "requests":
			requests += s.Value
			seen = true
		case "errors":
			errors += s.Value
		case "buckets":
			if le, err := strconv.ParseFloat(s.Le, 64); err == nil {
				buckets[le] += s.Value
			}
		}
	}
	b.State, b.RequestRate, b.ErrorRate, b.P95 = fromSums(seen, requests, errors, buckets)
	return b
}

// BaselineLabelName is the label that tells the baseline query's two halves apart.
func BaselineLabelName() string { return baselineSeries }

// promDuration writes a duration as PromQL reads it ("10m", "90s").
func promDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}
