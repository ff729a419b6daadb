package guard

import (
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

var bakeReleased = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// baking is orders at revision rev, completed a minute after its release and in a 15m
// bake window; revision rev-1 (ReplicaSet orders-prev) served before it.
func baking(rev int64) rollout.Rollout {
	return rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders", Phase: rollout.PhaseBaking,
		CanaryRevision: rev, StableRevision: rev,
		Bake: &rollout.Bake{Time: 15 * time.Minute, ReleasedAt: bakeReleased, CompletedAt: bakeReleased.Add(time.Minute), Until: bakeReleased.Add(16 * time.Minute),
			Previous: rev - 1, PreviousReplicaSet: "orders-prev"},
		Revisions: []rollout.Revision{{Number: rev, Role: rollout.RoleStable}, {Number: rev - 1, Role: rollout.RoleOld}}}
}

// complete is orders at revision rev once its window ended (or a rollback, which does not bake).
func complete(rev int64) rollout.Rollout {
	r := baking(rev)
	r.Phase, r.Bake = rollout.PhaseComplete, nil
	return r
}

// bakeRound is one round: the release's error rate ("none": no numbers), the baseline
// (0.2% of revision rev-1 over the 10 minutes before the release), at minute m after it
// completed.
func bakeRound(r rollout.Rollout, rate string, minute int, thresholds Thresholds) Verdicts {
	at := bakeReleased.Add(time.Minute + time.Duration(minute)*time.Minute)
	report := metrics.Report{At: at, Revisions: map[metrics.Key]metrics.Revision{}}
	v := metrics.Revision{State: metrics.StateOK, RequestRate: 10}
	switch rate {
	case "none":
		v.State = metrics.StateNoData
	case "8.1%":
		v.ErrorRate = 0.081
	case "0.2%":
		v.ErrorRate = 0.002
	}
	report.Revisions[metrics.KeyOf(&r, r.CanaryRevision)] = v
	if r.Bake != nil {
		report.Baselines = map[ref.Rollout]metrics.Baseline{r.Ref(): {Revision: r.Bake.Previous, ReplicaSet: r.Bake.PreviousReplicaSet,
			From: bakeReleased.Add(-10 * time.Minute), To: bakeReleased, State: metrics.StateOK, ErrorRate: 0.002, RequestRate: 10}}
	}
	return JudgeRound([]rollout.Rollout{r}, report, thresholds)
}

func TestEvaluateBakeSaysWhatItCompared(t *testing.T) {
	before := &metrics.Baseline{Revision: 4, From: bakeReleased.Add(-10 * time.Minute), To: bakeReleased, State: metrics.StateOK, ErrorRate: 0.002}
	release := &metrics.Revision{State: metrics.StateOK, ErrorRate: 0.081, RequestRate: 10}
	// The same error rate as before, slower.
	slow := &metrics.Revision{State: metrics.StateOK, ErrorRate: 0.002, RequestRate: 10, P95: 640 * time.Millisecond}
	slowBefore, fastBefore := *before, *before
	slowBefore.P95, fastBefore.P95 = 180*time.Millisecond, 20*time.Millisecond
	cases := []struct {
		name       string
		thresholds Thresholds
		release    *metrics.Revision
		before     *metrics.Baseline
		verdict    Verdict
		why        string
	}{
		{"against the numbers before the release", Thresholds{}, release, before, Breach, "8.1% errors vs 0.2% before the release (rev 4, 10 min before)"},
		{"by its threshold, the numbers before said too", Thresholds{MaxErrorRate: 0.02}, release, before, Breach, "release errors 8.1% > max 2.0%; 0.2% before the release (rev 4, 10 min before)"},
		{"by its threshold without a baseline", Thresholds{MaxErrorRate: 0.02}, release, nil, Breach, "release errors 8.1% > max 2.0%"},
		{"as before the release", Thresholds{}, &metrics.Revision{State: metrics.StateOK, ErrorRate: 0.003}, before, OK, "release errors 0.3%; 0.2% before the release"},
		{"no threshold, no baseline: nothing to compare with", Thresholds{}, release, nil, OK, "no error threshold and no numbers from before the release"},
		{"a baseline without numbers is not 0%", Thresholds{}, release, &metrics.Baseline{Revision: 4, State: metrics.StateNoTraffic}, OK, "no numbers from before the release"},
		{"NO DATA rules as today", Thresholds{}, &metrics.Revision{State: metrics.StateNoData}, before, NoData, "no numbers for the release"},
		{"slower than before the release", Thresholds{}, slow, &slowBefore, Breach, "p95 640ms vs p95 180ms before the release (rev 4, 10 min before)"},
		{"twice as slow but only by a little", Thresholds{}, &metrics.Revision{State: metrics.StateOK, ErrorRate: 0.002, P95: 50 * time.Millisecond}, &fastBefore, OK, "release errors 0.2%"},
		{"a latency threshold decides instead", Thresholds{MaxP95: time.Second}, slow, &slowBefore, OK, "release errors 0.2%"},
		{"no histogram before: nothing to compare", Thresholds{}, slow, before, OK, "release errors 0.2%"},
	}
	for _, c := range cases {
		j := EvaluateBake(c.thresholds, c.release, c.before)
		if j.Verdict != c.verdict || !strings.Contains(j.Why, c.why) {
			t.Errorf("%s: %s %q; want %s with %q", c.name, j.Verdict, j.Why, c.verdict, c.why)
		}
	}
}

// A completed release is judged in its bake window (not once the window ended), against
// the numbers before the release when it has no threshold.
func TestJudgeRoundJudgesABakingRelease(t *testing.T) {
	release := baking(5)
	if j := bakeRound(release, "8.1%", 3, Thresholds{}).Of(release.Ref()); j.Verdict != Breach || !strings.Contains(j.Why, "vs 0.2% before the release (rev 4, 10 min before)") {
		t.Errorf("baking: %s %q", j.Verdict, j.Why)
	}
	// The report's baseline of another release does not stand for this one.
	other := baking(5)
	other.Bake = &rollout.Bake{Time: 15 * time.Minute, ReleasedAt: bakeReleased.Add(time.Hour), Previous: 4, PreviousReplicaSet: "orders-prev"}
	v := bakeRound(baking(5), "8.1%", 3, Thresholds{})
	if j := JudgeRound([]rollout.Rollout{other}, v.Report, Thresholds{}).Of(other.Ref()); j.Verdict != OK {
		t.Errorf("with another release's baseline: %s %q; want OK (nothing to compare with)", j.Verdict, j.Why)
	}
}

func TestStepBakingRelease(t *testing.T) {
	type step struct {
		r      rollout.Rollout
		rate   string
		minute int
		want   Act // "" for no decision
	}
	onBreach := func(r rollout.Rollout, act string) rollout.Rollout {
		r.Settings = map[string]string{OnBreachAnnotation: act}
		return r
	}
	acted := func(r rollout.Rollout, rev int64) rollout.Rollout {
		r.GuardActed = &rollout.GuardActed{Revision: rev, Action: "rollback", Guard: safetext.Text("guard")}
		return r
	}
	cases := []struct {
		name   string
		policy Policy
		steps  []step
	}{
		{"a breaching release is rolled back once, after --after rounds", Policy{After: 2, Act: ActRollback}, []step{
			{baking(5), "8.1%", 1, ""}, {baking(5), "8.1%", 2, ActRollback}, {baking(5), "8.1%", 3, ""},
		}},
		{"a halt asked of a completed release tells once and changes nothing", Policy{After: 2, Act: ActHalt}, []step{
			{baking(5), "8.1%", 1, ""}, {baking(5), "8.1%", 2, ActNotify}, {baking(5), "8.1%", 3, ""}, {baking(5), "8.1%", 4, ""},
		}},
		{"NO DATA is never acted on", Policy{After: 2, Act: ActRollback}, []step{
			{baking(5), "none", 1, ""}, {baking(5), "none", 2, ""}, {baking(5), "none", 3, ""},
		}},
		{"a clean release ends its window with no action", Policy{After: 1, Act: ActRollback}, []step{
			{baking(5), "0.2%", 1, ""}, {baking(5), "0.2%", 14, ""}, {complete(5), "8.1%", 16, ""},
		}},
		{"once the window ended, a completed release is nobody's", Policy{After: 2, Act: ActRollback}, []step{
			{baking(5), "8.1%", 13, ""}, {complete(5), "8.1%", 16, ""}, {complete(5), "8.1%", 17, ""},
		}},
		{"a new release during the window starts a new streak", Policy{After: 2, Act: ActRollback}, []step{
			{baking(5), "8.1%", 1, ""}, {baking(6), "8.1%", 2, ""}, {baking(6), "8.1%", 3, ActRollback},
		}},
		{"a person's rollback during the window is left alone", Policy{After: 2, Act: ActRollback}, []step{
			{baking(5), "8.1%", 1, ""}, {complete(6), "8.1%", 2, ""}, {complete(6), "8.1%", 3, ""},
		}},
		{"pyroll.dev/on-breach: notify overrides --action rollback", Policy{After: 1, Act: ActRollback}, []step{
			{onBreach(baking(5), "notify"), "8.1%", 1, ActNotify}, {onBreach(baking(5), "notify"), "8.1%", 2, ""},
		}},
		{"pyroll.dev/on-breach: rollback overrides --action halt", Policy{After: 1, Act: ActHalt}, []step{
			{onBreach(baking(5), "rollback"), "8.1%", 1, ActRollback},
		}},
		{"the memory on the object: a guard rolled this release back before", Policy{After: 1, Act: ActRollback}, []step{
			{acted(baking(5), 5), "8.1%", 1, ""}, {acted(baking(5), 5), "8.1%", 2, ""},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := State{}
			for i, s := range c.steps {
				var decisions []Decision
				state, decisions, _ = Step(state, []rollout.Rollout{s.r}, bakeRound(s.r, s.rate, s.minute, Thresholds{}), c.policy)
				var got Act
				if len(decisions) > 0 {
					got = decisions[0].Act
				}
				if got != s.want {
					t.Fatalf("round %d: %q (%+v); want %q", i+1, got, decisions, s.want)
				}
			}
		})
	}
}

// The decision says what a rollback returns to and how long the release had baked.
func TestStepBakingDecision(t *testing.T) {
	r := baking(5)
	_, decisions, _ := Step(State{}, []rollout.Rollout{r}, bakeRound(r, "8.1%", 4, Thresholds{}), Policy{After: 1, Act: ActRollback})
	if len(decisions) != 1 {
		t.Fatalf("decisions %+v", decisions)
	}
	d := decisions[0]
	if d.Stable != 4 || d.Canary != 5 || d.Bake == nil || d.BakedFor != 4*time.Minute || d.Judged.Compared != "0.2% before the release (rev 4, 10 min before)" {
		t.Errorf("decision %+v", d)
	}
	if want := "guard: 8.1% errors vs 0.2% before the release (rev 4, 10 min before) for 1 intervals, 4 min into its 15m bake window"; d.Reason != want {
		t.Errorf("reason %q\nwant   %q", d.Reason, want)
	}
	_, decisions, _ = Step(State{}, []rollout.Rollout{r}, bakeRound(r, "8.1%", 4, Thresholds{}), Policy{After: 1, Act: ActHalt})
	if len(decisions) != 1 || decisions[0].Act != ActNotify || decisions[0].Asked != ActHalt ||
		!strings.HasSuffix(decisions[0].Reason, "complete before the breach was seen; roll back with `kubectl pyroll rollback orders`") {
		t.Errorf("halt of a completed release: %+v", decisions)
	}
	// Nothing kept to roll back to (revisionHistoryLimit 0): told, not acted on.
	r.Bake.Previous, r.Bake.PreviousReplicaSet = 0, ""
	_, decisions, _ = Step(State{}, []rollout.Rollout{r}, bakeRound(r, "8.1%", 4, Thresholds{MaxErrorRate: 0.02}), Policy{After: 1, Act: ActRollback})
	if len(decisions) != 1 || decisions[0].Act != ActNotify || !strings.Contains(decisions[0].Reason, "no revision before it") {
		t.Errorf("rollback with nothing to return to: %+v", decisions)
	}
}
