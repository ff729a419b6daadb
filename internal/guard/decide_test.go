package guard

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// canary is a rollout in progress: canary rev beside stable rev 1.
func canary(name string, rev int64, paused bool) rollout.Rollout {
	return rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: name, Paused: paused, CanaryRevision: rev, StableRevision: 1,
		Revisions: []rollout.Revision{{Number: rev, Role: rollout.RoleCanary}, {Number: 1, Role: rollout.RoleStable}}}
}

// round is what the canary of each rollout measures in one round: an error rate, or
// "none" for no numbers.
type round map[string]string

func verdictsOf(rollouts []rollout.Rollout, r round) Verdicts {
	report := metrics.Report{Revisions: map[metrics.Key]metrics.Revision{}}
	for i := range rollouts {
		ro := &rollouts[i]
		rate, ok := r[ro.Name]
		state := metrics.StateOK
		if !ok || rate == "none" {
			state = metrics.StateNoData
		}
		v := metrics.Revision{State: state, RequestRate: 10}
		switch rate {
		case "5%":
			v.ErrorRate = 0.05
		case "0.1%":
			v.ErrorRate = 0.001
		}
		report.Revisions[metrics.KeyOf(ro, ro.CanaryRevision)] = v
		report.Revisions[metrics.KeyOf(ro, 1)] = metrics.Revision{State: metrics.StateOK, RequestRate: 10, ErrorRate: 0.001}
	}
	return JudgeRound(rollouts, report, Thresholds{MaxErrorRate: 0.01})
}

func TestStepActsAfterConsecutiveBreaches(t *testing.T) {
	type step struct {
		rollouts []rollout.Rollout
		measured round
		want     string // the names acted on this round, comma separated
	}
	orders := func(rev int64, paused bool) rollout.Rollout { return canary("orders", rev, paused) }
	cases := []struct {
		name   string
		policy Policy
		steps  []step
	}{
		{"three breaching rounds halt once", Policy{After: 3, Act: ActHalt}, []step{
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, "orders"},
			{[]rollout.Rollout{orders(2, true)}, round{"orders": "5%"}, ""},
		}},
		{"a recovery ends the streak", Policy{After: 2, Act: ActHalt}, []step{
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "0.1%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, "orders"},
		}},
		{"a NO DATA gap shorter than after neither counts nor resets, and is never acted on", Policy{After: 3, Act: ActHalt}, []step{
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "none"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "none"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, "orders"},
		}},
		{"after NO DATA rounds in a row end the streak", Policy{After: 3, Act: ActHalt}, slices.Concat(
			[]step{
				{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
				{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			},
			slices.Repeat([]step{{[]rollout.Rollout{orders(2, false)}, round{"orders": "none"}, ""}}, 1000),
			[]step{
				{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""}, // one round, not the old streak's third
				{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
				{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, "orders"},
			},
		)},
		{"exactly after NO DATA rounds are enough", Policy{After: 2, Act: ActHalt}, []step{
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "none"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "none"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, "orders"},
		}},
		{"promoted after a guard halt: not halted again for the same canary", Policy{After: 1, Act: ActHalt}, []step{
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, "orders"},
			{[]rollout.Rollout{orders(2, true)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
		}},
		{"a new canary mid-streak starts a new streak, and may be acted on", Policy{After: 2, Act: ActHalt}, []step{
			{[]rollout.Rollout{orders(2, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(3, false)}, round{"orders": "5%"}, ""},
			{[]rollout.Rollout{orders(3, false)}, round{"orders": "5%"}, "orders"},
		}},
		{"two rollouts count apart", Policy{After: 2, Act: ActHalt}, []step{
			{[]rollout.Rollout{orders(2, false), canary("search", 5, false)}, round{"orders": "5%", "search": "0.1%"}, ""},
			{[]rollout.Rollout{orders(2, false), canary("search", 5, false)}, round{"orders": "5%", "search": "5%"}, "orders"},
			{[]rollout.Rollout{orders(2, true), canary("search", 5, false)}, round{"orders": "5%", "search": "5%"}, "search"},
		}},
		{"a halted canary can still be rolled back", Policy{After: 1, Act: ActRollback}, []step{
			{[]rollout.Rollout{orders(2, true)}, round{"orders": "5%"}, "orders"},
			{[]rollout.Rollout{orders(2, true)}, round{"orders": "5%"}, ""},
		}},
		{"a settled rollout (no stable beside it) is not acted on", Policy{After: 1, Act: ActRollback}, []step{
			{[]rollout.Rollout{{Kind: ref.Deployment, Namespace: "shop", Name: "orders", CanaryRevision: 2,
				Revisions: []rollout.Revision{{Number: 2, Role: rollout.RoleCanary}}}}, round{"orders": "5%"}, ""},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := State{}
			for i, s := range c.steps {
				var decisions []Decision
				state, decisions, _ = Step(state, s.rollouts, verdictsOf(s.rollouts, s.measured), c.policy)
				var names []string
				for _, d := range decisions {
					names = append(names, d.Rollout.Name)
					if d.Act != c.policy.Act || !strings.Contains(d.Reason, "canary errors 5.0% > max 1.0%") || d.Stable != 1 {
						t.Errorf("round %d: decision %+v", i+1, d)
					}
				}
				if got := strings.Join(names, ","); got != s.want {
					t.Errorf("round %d: acted on %q, want %q", i+1, got, s.want)
				}
			}
		})
	}
}

func TestStepReportsEachVerdictChangeOnce(t *testing.T) {
	rs := []rollout.Rollout{canary("orders", 2, false)}
	state := State{}
	var all []string
	for _, measured := range []string{"0.1%", "0.1%", "5%", "5%", "none", "0.1%"} {
		var changes []Change
		state, _, changes = Step(state, rs, verdictsOf(rs, round{"orders": measured}), Policy{After: 9, Act: ActHalt})
		for _, c := range changes {
			all = append(all, string(c.From)+">"+string(c.To))
		}
	}
	if got := strings.Join(all, " "); got != ">OK OK>BREACH BREACH>NO DATA NO DATA>OK" {
		t.Errorf("changes %q", got)
	}
}

func TestRetryAfterAFailedAction(t *testing.T) {
	rs := []rollout.Rollout{canary("orders", 2, false)}
	v := verdictsOf(rs, round{"orders": "5%"})
	state, decisions, _ := Step(State{}, rs, v, Policy{After: 1, Act: ActHalt})
	if len(decisions) != 1 {
		t.Fatalf("decisions %v", decisions)
	}
	state.Retry(rs[0].Ref())
	if _, decisions, _ = Step(state, rs, v, Policy{After: 1, Act: ActHalt}); len(decisions) != 1 {
		t.Errorf("after a failed halt the next breaching round should try again: %v", decisions)
	}
}

func TestJudgeRoundOncePerRollout(t *testing.T) {
	rs := []rollout.Rollout{canary("orders", 2, false), canary("search", 3, false)}
	rs[1].Settings = map[string]string{MaxErrorRateAnnotation: "0.1"}
	v := verdictsOf(rs, round{"orders": "5%", "search": "5%"})
	if j := v.Of(rs[0].Ref()); j.Verdict != Breach || j.Thresholds.MaxErrorRate != 0.01 {
		t.Errorf("orders %+v", j)
	}
	if j := v.Of(rs[1].Ref()); j.Verdict != Warn || j.Thresholds.MaxErrorRate != 0.1 {
		t.Errorf("search, with its own threshold of 10%%: %+v", j)
	}
	if j := v.Of(ref.Rollout{Kind: ref.ArgoRollout, Namespace: "shop", Name: "orders"}); j.Verdict != NoData {
		t.Errorf("an Argo Rollout of the same name is another rollout: %+v", j)
	}
	if got := len(v.Breaching()); got != 1 {
		t.Errorf("%d breaching, want 1", got)
	}
}

func TestBreachingCountsEvenWhereTheGuardMayNotAct(t *testing.T) {
	rs := []rollout.Rollout{canary("orders", 2, true), canary("search", 3, false)}
	state := State{}
	for range 2 {
		state, _, _ = Step(state, rs, verdictsOf(rs, round{"orders": "5%", "search": "0.1%"}), Policy{After: 2, Act: ActHalt})
	}
	got := state.Breaching(2)
	if len(got) != 1 || got[0].Name != "orders" {
		t.Errorf("breaching %v; want the halted orders (status --watch ends on it)", got)
	}
	if got := state.Breaching(3); len(got) != 0 {
		t.Errorf("after 2 rounds, breaching for 3: %v", got)
	}
}

// A round that changes nothing on screen (only its time) reads the same; a value, a first
// round, or a verdict that moves does not.
func TestVerdictsShowTheSame(t *testing.T) {
	rollouts := []rollout.Rollout{canary("orders-api", 2, false), canary("search-api", 3, false)}
	at := func(v Verdicts, sec int) Verdicts { v.Report.At = time.Unix(int64(1_800_000_000+sec), 0); return v }
	first := at(verdictsOf(rollouts, round{"orders-api": "0.1%", "search-api": "none"}), 0)
	if !first.ShowsTheSame(at(verdictsOf(rollouts, round{"orders-api": "0.1%", "search-api": "none"}), 10)) {
		t.Error("the same values ten seconds later read as a change")
	}
	if first.ShowsTheSame(at(verdictsOf(rollouts, round{"orders-api": "5%", "search-api": "none"}), 10)) {
		t.Error("a canary that starts failing reads as no change")
	}
	if first.ShowsTheSame(verdictsOf(rollouts, round{"orders-api": "0.1%", "search-api": "none"})) {
		t.Error("no round yet reads the same as a round")
	}
	// A revision without numbers has a history of gaps (NaN), the same round after round.
	gaps := func(v Verdicts) Verdicts {
		revisions := map[metrics.Key]metrics.Revision{}
		for key, m := range v.Report.Revisions {
			m.History = []float64{math.NaN(), math.NaN()}
			revisions[key] = m
		}
		v.Report.Revisions = revisions
		return v
	}
	if !gaps(first).ShowsTheSame(gaps(at(verdictsOf(rollouts, round{"orders-api": "0.1%", "search-api": "none"}), 20))) {
		t.Error("the same gaps read as a change")
	}
	warned := at(verdictsOf(rollouts, round{"orders-api": "0.1%", "search-api": "none"}), 10)
	warned.Report.Warnings = append(warned.Report.Warnings, "partial answer")
	if first.ShowsTheSame(warned) || first.ReadsTheSameNow(warned) {
		t.Error("a new warning reads as no change")
	}
	// A history one point longer: the detail's sparkline changes, the list's latest values do not.
	longer := func(v Verdicts) Verdicts {
		revisions := map[metrics.Key]metrics.Revision{}
		for key, m := range v.Report.Revisions {
			m.History = append(slices.Clone(m.History), m.ErrorRate)
			revisions[key] = m
		}
		v.Report.Revisions = revisions
		return v
	}
	grown := longer(at(verdictsOf(rollouts, round{"orders-api": "0.1%", "search-api": "none"}), 10))
	if first.ShowsTheSame(grown) {
		t.Error("a history one point longer reads as no change to the detail")
	}
	if !first.ReadsTheSameNow(grown) {
		t.Error("a history one point longer reads as a change of the latest values")
	}
	if first.ReadsTheSameNow(longer(at(verdictsOf(rollouts, round{"orders-api": "5%", "search-api": "none"}), 10))) {
		t.Error("a canary that starts failing reads as the same latest values")
	}
}

// The memory on the object counts for the canary it names, and for this guard: its
// Lease's records, or any guard's without a Lease.
func TestStepRemembersWhatTheObjectSays(t *testing.T) {
	acted := func(rev int64, by string) rollout.Rollout {
		r := canary("orders", 2, false)
		r.GuardActed = &rollout.GuardActed{Revision: rev, Action: "halt", Guard: safetext.Line(by)}
		return r
	}
	for _, c := range []struct {
		name   string
		r      rollout.Rollout
		policy Policy
		acts   bool
	}{
		{"no record", canary("orders", 2, false), Policy{After: 1, Act: ActHalt, Guard: "guard"}, true},
		{"this canary, any guard, no Lease", acted(2, "auto-halt"), Policy{After: 1, Act: ActHalt, Guard: "guard"}, false},
		{"an older canary", acted(1, "guard"), Policy{After: 1, Act: ActHalt, Guard: "guard"}, true},
		{"this canary, the same Lease", acted(2, "pyroll/g"), Policy{After: 1, Act: ActHalt, Guard: "pyroll/g", Leased: true}, false},
		{"this canary, another Lease", acted(2, "pyroll/h"), Policy{After: 1, Act: ActHalt, Guard: "pyroll/g", Leased: true}, true},
		{"a record naming no guard", acted(2, ""), Policy{After: 1, Act: ActHalt, Guard: "guard"}, true},
	} {
		rs := []rollout.Rollout{c.r}
		_, decisions, _ := Step(State{}, rs, verdictsOf(rs, round{"orders": "5%"}), c.policy)
		if acts := len(decisions) == 1; acts != c.acts {
			t.Errorf("%s: acts %v, want %v", c.name, acts, c.acts)
		}
	}
}

// A completed rollout's current revision is its stable one (rollout.settle): it is still
// judged on its own numbers (a release in its bake window is watched), not as NO DATA for
// want of a canary, and never against itself.
func TestJudgeRoundJudgesACompletedRolloutsCurrentRevision(t *testing.T) {
	completed := func(name string) rollout.Rollout {
		return rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: name, Phase: rollout.PhaseComplete, CanaryRevision: 2, StableRevision: 2,
			Revisions: []rollout.Revision{{Number: 2, Role: rollout.RoleStable}, {Number: 1, Role: rollout.RoleOld}}}
	}
	blueGreen := completed("bg")
	blueGreen.Kind, blueGreen.Revisions[0].Role = ref.ArgoRollout, rollout.RoleActive
	rollouts := []rollout.Rollout{completed("erring"), completed("fine"), blueGreen, canary("rolling", 2, false)}
	verdicts := verdictsOf(rollouts, round{"erring": "5%", "fine": "0.1%", "bg": "5%", "rolling": "5%"})
	want := map[string]Verdict{"erring": Breach, "fine": OK, "bg": Breach, "rolling": Breach}
	for _, r := range rollouts {
		if got := verdicts.Of(r.Ref()); got.Verdict != want[r.Name] {
			t.Errorf("%s: %s (%s), want %s", r.Name, got.Verdict, got.Why, want[r.Name])
		}
	}
	// Never acted on: a completed rollout is not in progress.
	if _, decisions, _ := Step(State{}, rollouts[:1], verdicts, Policy{Act: ActHalt, After: 1}); len(decisions) != 0 {
		t.Errorf("decisions %+v on a completed rollout", decisions)
	}
}
