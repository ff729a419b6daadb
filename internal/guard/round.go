package guard

import (
	"math"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Verdicts are one metrics round's judgements of every rollout in scope, computed once
// per round and read by every view (list, detail, banner, status, incident report) and by
// the decision to act.
type Verdicts struct {
	// Report is the round they judge.
	Report    metrics.Report
	byRollout map[ref.Rollout]Judged
}

// Judged is one rollout's judgement with the thresholds it was judged by.
type Judged struct {
	Judgement
	Thresholds Thresholds
	// ThresholdsErr says why the rollout's threshold annotations were ignored, if they were.
	ThresholdsErr error
}

// JudgeRound judges every rollout's canary in one round, with the thresholds of its
// annotations over the defaults (a threshold that does not parse is left out and said).
func JudgeRound(rollouts []rollout.Rollout, report metrics.Report, defaults Thresholds) Verdicts {
	v := Verdicts{Report: report, byRollout: make(map[ref.Rollout]Judged, len(rollouts))}
	for i := range rollouts {
		r := &rollouts[i]
		thresholds, err := defaults.With(r.Settings)
		if err != nil {
			thresholds = defaults
		}
		v.byRollout[r.Ref()] = Judged{Judgement: judge(r, report, thresholds), Thresholds: thresholds, ThresholdsErr: err}
	}
	return v
}

// Of is the judgement of one rollout; NO DATA for one the round did not judge.
func (v Verdicts) Of(r ref.Rollout) Judged {
	if j, ok := v.byRollout[r]; ok {
		return j
	}
	return Judged{Judgement: Judgement{Verdict: NoData, Why: "not judged yet"}}
}

// Breaching are the rollouts in BREACH.
func (v Verdicts) Breaching() map[ref.Rollout]Judged {
	out := map[ref.Rollout]Judged{}
	for r, j := range v.byRollout {
		if j.Verdict == Breach {
			out[r] = j
		}
	}
	return out
}

// judgements counts the judgements made, so a test can show that a round is judged once
// however many views read it.
var judgements atomic.Int64

// JudgementsMade is how many canaries this process has judged so far.
func JudgementsMade() int64 { return judgements.Load() }

func judge(r *rollout.Rollout, report metrics.Report, thresholds Thresholds) Judgement {
	judgements.Add(1)
	lookup := func(rev *rollout.Revision) *metrics.Revision {
		if rev == nil {
			return nil
		}
		if v, ok := report.Of(r, rev.Number); ok {
			return &v
		}
		return nil
	}
	// The current revision is judged: the canary, or once the rollout completed the stable
	// revision it became (a release in its bake window is still watched), against the
	// revision that served before it, if one still does.
	current, stable := r.Current(), r.Stable()
	if r.Baking() {
		var before *metrics.Baseline
		if b, ok := report.Baseline(r); ok {
			before = &b
		}
		return EvaluateBake(thresholds, lookup(current), before)
	}
	if stable == current {
		stable = nil
	}
	return Evaluate(thresholds, lookup(current), lookup(stable))
}

// ShowsTheSame says whether v and o read the same on screen: the same verdicts, values,
// errors and warnings. Views ask only whether a round was taken, never when, so an idle
// console's rounds, which change nothing, need not be drawn again (at 10,000 pods that was
// most of its idle CPU). NaN gaps in a history compare as gaps, not as changes.
func (v Verdicts) ShowsTheSame(o Verdicts) bool {
	return v.sameRound(o, comparableReport)
}

// ReadsTheSameNow is ShowsTheSame without the histories: whether the verdicts and the
// latest values are the same, which is all the rollouts list draws. A history gains a
// point every round until it is full (5 minutes), so a list that waited for ShowsTheSame
// would redraw every row every round of an idle console's first minutes.
func (v Verdicts) ReadsTheSameNow(o Verdicts) bool {
	return v.sameRound(o, latestOfReport)
}

func (v Verdicts) sameRound(o Verdicts, comparable func(metrics.Report) metrics.Report) bool {
	if v.Report.At.IsZero() != o.Report.At.IsZero() {
		return false
	}
	v.Report, o.Report = comparable(v.Report), comparable(o.Report)
	return reflect.DeepEqual(v, o)
}

// comparableReport is r without its time, and with the NaN gaps of its histories (a revision
// without numbers adds one every round) as -1, which no rate or latency is: DeepEqual finds
// NaN unequal to itself.
func comparableReport(r metrics.Report) metrics.Report {
	return mapRevisions(r, func(m metrics.Revision) metrics.Revision {
		m.History, m.P95History = gapsAsNegative(m.History), gapsAsNegative(m.P95History)
		return m
	})
}

// latestOfReport is r without its time and without its histories.
func latestOfReport(r metrics.Report) metrics.Report {
	return mapRevisions(r, func(m metrics.Revision) metrics.Revision {
		m.History, m.P95History = nil, nil
		return m
	})
}

func mapRevisions(r metrics.Report, f func(metrics.Revision) metrics.Revision) metrics.Report {
	r.At = time.Time{}
	revisions := make(map[metrics.Key]metrics.Revision, len(r.Revisions))
	for key, m := range r.Revisions {
		revisions[key] = f(m)
	}
	r.Revisions = revisions
	return r
}

func gapsAsNegative(values []float64) []float64 {
	out := slices.Clone(values)
	for i, x := range out {
		if math.IsNaN(x) {
			out[i] = -1
		}
	}
	return out
}
