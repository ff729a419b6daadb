// Package guard turns a revision's numbers and the rollout's thresholds into a verdict:
// OK, WARN, BREACH or NO DATA, the canary judged against its limits and its stable.
package guard

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Verdict is the guard's word on a revision.
type Verdict string

const (
	OK     Verdict = "OK"
	Warn   Verdict = "WARN"
	Breach Verdict = "BREACH"
	NoData Verdict = "NO DATA"
)

// Threshold annotations on a Deployment.
const (
	MaxErrorRateAnnotation = "pyroll.dev/max-error-rate"  // e.g. "0.01"
	MaxP95Annotation       = "pyroll.dev/max-p95-latency" // e.g. "300ms"
)

// Thresholds are a rollout's limits; zero means none.
type Thresholds struct {
	MaxErrorRate float64
	MaxP95       time.Duration
}

// ThresholdsFrom reads the threshold annotations; a value that does not parse is reported
// (and ignored) rather than guessed.
func ThresholdsFrom(annotations map[string]string) (Thresholds, error) {
	return Thresholds{}.With(annotations)
}

// With returns the thresholds with the annotations' values in place of these defaults.
func (t Thresholds) With(annotations map[string]string) (Thresholds, error) {
	if v, ok := annotations[MaxErrorRateAnnotation]; ok {
		rate, err := ParseErrorRate(v)
		if err != nil {
			return t, fmt.Errorf("%s=%q: %w", MaxErrorRateAnnotation, v, err)
		}
		t.MaxErrorRate = rate
	}
	if v, ok := annotations[MaxP95Annotation]; ok {
		d, err := ParseLatency(v)
		if err != nil {
			return t, fmt.Errorf("%s=%q: %w", MaxP95Annotation, v, err)
		}
		t.MaxP95 = d
	}
	return t, nil
}

// ParseErrorRate reads a maximum error rate: a fraction in (0, 1].
func ParseErrorRate(v string) (float64, error) {
	rate, err := strconv.ParseFloat(v, 64)
	if err != nil || rate <= 0 || rate > 1 {
		return 0, errors.New(`want a fraction between 0 and 1, e.g. "0.01" for 1%`)
	}
	return rate, nil
}

// ParseLatency reads a maximum latency: a positive duration.
func ParseLatency(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errors.New(`want a duration, e.g. "300ms"`)
	}
	return d, nil
}

// Judgement is a verdict with the one line that explains it.
type Judgement struct {
	Verdict Verdict
	Why     string
	// Compared is what a release in its bake window was compared with: "0.2% before the
	// release (rev 4, 10 min before)" or "max 2.0% errors" ("" for a canary).
	Compared string
}

// Evaluate judges the canary: BREACH past a threshold; WARN close to one (80%), or, with
// no threshold, erring over 1% and twice its stable; NO DATA without numbers.
func Evaluate(t Thresholds, canary, stable *metrics.Revision) Judgement {
	switch {
	case canary != nil && canary.State == metrics.StateOutOfStep:
		return Judgement{Verdict: NoData, Why: "canary counters out of step (more errors than requests)"}
	case canary == nil || canary.State != metrics.StateOK:
		return Judgement{Verdict: NoData, Why: "no numbers for the canary"}
	}
	pct := func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }
	switch {
	case t.MaxErrorRate > 0 && canary.ErrorRate > t.MaxErrorRate:
		return Judgement{Verdict: Breach, Why: fmt.Sprintf("canary errors %s > max %s", pct(canary.ErrorRate), pct(t.MaxErrorRate))}
	case t.MaxP95 > 0 && canary.P95 > t.MaxP95:
		return Judgement{Verdict: Breach, Why: fmt.Sprintf("canary p95 %s > max %s", canary.P95.Round(time.Millisecond), t.MaxP95)}
	case t.MaxErrorRate > 0 && canary.ErrorRate > 0.8*t.MaxErrorRate:
		return Judgement{Verdict: Warn, Why: fmt.Sprintf("canary errors %s near max %s", pct(canary.ErrorRate), pct(t.MaxErrorRate))}
	case t.MaxP95 > 0 && canary.P95 > t.MaxP95*8/10:
		return Judgement{Verdict: Warn, Why: fmt.Sprintf("canary p95 %s near max %s", canary.P95.Round(time.Millisecond), t.MaxP95)}
	case stable != nil && stable.State == metrics.StateOK && canary.ErrorRate > 0.01 && canary.ErrorRate > 2*stable.ErrorRate:
		return Judgement{Verdict: Warn, Why: fmt.Sprintf("canary errors %s vs stable %s", pct(canary.ErrorRate), pct(stable.ErrorRate))}
	}
	return Judgement{Verdict: OK}
}

// EvaluateBake judges a release in its bake window: by its absolute thresholds as a
// canary is; without a threshold on errors, against the numbers the revision before it
// had before the release (BREACH when it errs over 1% and more than twice as often as
// then), and likewise without a latency threshold (BREACH when its p95 is more than twice
// then and 100 ms more); NO DATA without numbers of its own. The why says what it compared.
func EvaluateBake(t Thresholds, release *metrics.Revision, before *metrics.Baseline) Judgement {
	switch {
	case release != nil && release.State == metrics.StateOutOfStep:
		return Judgement{Verdict: NoData, Why: "release counters out of step (more errors than requests)"}
	case release == nil || release.State != metrics.StateOK:
		return Judgement{Verdict: NoData, Why: "no numbers for the release"}
	}
	pct := func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }
	var compared string // ", 0.2% before the release (rev 4, 10 min before)"
	okBefore := before != nil && before.State == metrics.StateOK
	if okBefore {
		compared = fmt.Sprintf("%s before the release (rev %d, %d min before)", pct(before.ErrorRate), before.Revision, int(before.Window().Minutes()))
	}
	withBefore := func(why string) string {
		if compared != "" {
			return why + "; " + compared
		}
		return why
	}
	switch {
	case t.MaxErrorRate > 0 && release.ErrorRate > t.MaxErrorRate:
		return Judgement{Breach, withBefore(fmt.Sprintf("release errors %s > max %s", pct(release.ErrorRate), pct(t.MaxErrorRate))), "max " + pct(t.MaxErrorRate) + " errors"}
	case t.MaxP95 > 0 && release.P95 > t.MaxP95:
		return Judgement{Breach, withBefore(fmt.Sprintf("release p95 %s > max %s", release.P95.Round(time.Millisecond), t.MaxP95)), "max p95 " + t.MaxP95.String()}
	case t.MaxErrorRate == 0 && okBefore && release.ErrorRate > 0.01 && release.ErrorRate > 2*before.ErrorRate:
		return Judgement{Breach, fmt.Sprintf("%s errors vs %s", pct(release.ErrorRate), compared), compared}
	case t.MaxP95 == 0 && okBefore && slowerThanBefore(release.P95, before.P95):
		was := fmt.Sprintf("p95 %s before the release (rev %d, %d min before)", before.P95.Round(time.Millisecond), before.Revision, int(before.Window().Minutes()))
		return Judgement{Breach, fmt.Sprintf("p95 %s vs %s", release.P95.Round(time.Millisecond), was), was}
	case t.MaxErrorRate > 0 && release.ErrorRate > 0.8*t.MaxErrorRate:
		return Judgement{Warn, withBefore(fmt.Sprintf("release errors %s near max %s", pct(release.ErrorRate), pct(t.MaxErrorRate))), "max " + pct(t.MaxErrorRate) + " errors"}
	case t.MaxP95 > 0 && release.P95 > t.MaxP95*8/10:
		return Judgement{Warn, withBefore(fmt.Sprintf("release p95 %s near max %s", release.P95.Round(time.Millisecond), t.MaxP95)), "max p95 " + t.MaxP95.String()}
	case t.MaxErrorRate == 0 && !okBefore:
		// Nothing to compare with: no threshold, no numbers before the release.
		return Judgement{Verdict: OK, Why: "baking: no error threshold and no numbers from before the release to compare with"}
	}
	j := Judgement{Verdict: OK, Why: withBefore(fmt.Sprintf("release errors %s", pct(release.ErrorRate))), Compared: compared}
	if t.MaxErrorRate > 0 {
		j.Compared = "max " + pct(t.MaxErrorRate) + " errors"
	}
	return j
}

// latencySlack is how much slower than before a release must be, besides twice as slow, to
// breach on latency without a threshold: 20 ms -> 45 ms is twice, and nobody's page.
const latencySlack = 100 * time.Millisecond

// slowerThanBefore: without a latency threshold, a release whose p95 is more than twice
// what the revision before it had before the release, and over latencySlack more, breaches
// (both measured: a histogram-less preset reads 0 and compares nothing).
func slowerThanBefore(release, before time.Duration) bool {
	return before > 0 && release > 2*before && release-before > latencySlack
}

// Judge is the verdict on a rollout's canary, with the thresholds of its annotations over
// the defaults (a threshold that does not parse is left out).
func Judge(r rollout.Rollout, report metrics.Report, defaults Thresholds) Judgement {
	return JudgeRound([]rollout.Rollout{r}, report, defaults).Of(r.Ref()).Judgement
}
