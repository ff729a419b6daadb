package guard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Act is what the guard does to a canary that breached long enough.
type Act string

const (
	ActHalt     Act = "halt"
	ActRollback Act = "rollback"
	// ActNotify changes nothing and tells on-call: a halt asked of a release that already
	// completed (nothing is left to pause), or pyroll.dev/on-breach: notify.
	ActNotify Act = "notify"
)

// OnBreachAnnotation on a rollout overrides the guard's action for it: rollback, halt or
// notify.
const OnBreachAnnotation = "pyroll.dev/on-breach"

// ParseAct reads an action's name.
func ParseAct(v string) (Act, bool) {
	switch a := Act(v); a {
	case ActHalt, ActRollback, ActNotify:
		return a, true
	}
	return "", false
}

// Policy says when and how the guard acts.
type Policy struct {
	// After is how many breaching rounds in a row it takes (at least 1).
	After int
	Act   Act
	// By names who acts in the audit reason: "guard" (default) or "auto-halt".
	By string
	// Guard is the name this guard records on what it acts on (intent.Request.Guard): its
	// Lease "namespace/name", else "guard" or "auto-halt".
	Guard string
	// Leased: Guard is a Lease, and only the records of guards holding the same Lease are
	// this guard's memory; without a Lease any guard's record is.
	Leased bool
}

// actFor is the action for the rollout: its pyroll.dev/on-breach, else the policy's.
func (p Policy) actFor(r *rollout.Rollout) Act {
	if a, ok := ParseAct(r.Settings[OnBreachAnnotation]); ok {
		return a
	}
	return p.Act
}

// remembers says whether a guard's record on the object (intent.GuardActed.Guard) is this
// guard's own memory: its Lease's, or any guard's when it runs without one.
func (p Policy) remembers(guard string) bool {
	if guard == "" {
		return false
	}
	return !p.Leased || guard == p.Guard
}

// Memory is what the guard keeps about one rollout from one round to the next.
type Memory struct {
	// Canary is the revision the streak is about: a new canary starts a new streak.
	Canary int64
	// Streak counts breaching rounds in a row of that canary.
	Streak int
	// NoData counts the NO DATA rounds in a row since the last round with numbers: as
	// many as the policy's After end the streak.
	NoData int
	// ActedOn is the canary revision the guard last acted on: never twice on the same
	// one, so a rollout someone promoted after a guard halt is not halted again for the
	// same breach.
	ActedOn int64
	// Verdict is the last judgement's, to report changes once.
	Verdict Verdict
}

// State is the guard's memory of every rollout it judged.
type State map[ref.Rollout]Memory

// Decision is "act on this rollout now, for this reason".
type Decision struct {
	Rollout ref.Rollout
	Act     Act
	// Canary and Stable are the revisions concerned: the breaching one and the one a
	// rollback returns to.
	Canary, Stable int64
	Reason         string
	Judged         Judged
	// Bake is the window of a release judged in it (nil for a canary in progress), and
	// BakedFor how long it had baked when the guard decided.
	Bake     *rollout.Bake
	BakedFor time.Duration
	// Asked is what the policy asked for when the decision is another act: a halt asked
	// of a release that completed is ActNotify (nothing is left to pause).
	Asked Act
}

// CompletedBeforeTheBreach is what on-call is told when a halt is asked of a release that
// completed: nothing changes.
func CompletedBeforeTheBreach(name string) string {
	return "complete before the breach was seen; roll back with `kubectl pyroll rollback " + name + "`"
}

// Change is a verdict that differs from the previous round's, to be said once.
type Change struct {
	Rollout  ref.Rollout
	Canary   int64
	From, To Verdict
	Why      string
}

// Step is one round of the guard, pure: from the previous state, the rollouts as they
// are, and this round's verdicts, the next state, what to act on, and which verdicts
// changed. Rules:
//   - only a rollout in progress (a canary beside a stable revision) is acted on;
//   - a streak counts BREACH rounds of the same canary in a row; OK or WARN ends it;
//     NO DATA (no traffic, no series, Prometheus unreachable) does not count: the guard
//     never acts on a round without numbers. A gap shorter than After rounds does not
//     end the streak either (a scrape gap does not restart the count of a real breach),
//     but After NO DATA rounds in a row do: one breaching round after a long silence is
//     one round, not the end of an old streak;
//   - a new canary revision starts a new streak;
//   - it acts once per canary revision (never twice on the same one, remembered on the
//     object: pyroll.dev/guard-acted), and a halt is not sent to a rollout already halted.
func Step(prev State, rollouts []rollout.Rollout, verdicts Verdicts, policy Policy) (State, []Decision, []Change) {
	after := max(policy.After, 1)
	next := make(State, len(rollouts))
	var decisions []Decision
	var changes []Change
	for i := range rollouts {
		r := &rollouts[i]
		key := r.Ref()
		judged := verdicts.Of(key)
		mem, known := prev[key]
		if !known || mem.Canary != r.CanaryRevision {
			mem = Memory{Canary: r.CanaryRevision, ActedOn: mem.ActedOn, Verdict: mem.Verdict}
		}
		if acted := r.GuardActed; acted != nil && acted.Revision == r.CanaryRevision && policy.remembers(string(acted.Guard)) {
			// The memory on the object: a guard acted on this canary before this one
			// started (a restart, a standby that took the Lease). A person may have promoted
			// it since: that is their call, not to be undone.
			mem.ActedOn = r.CanaryRevision
		}
		if judged.Verdict != mem.Verdict {
			changes = append(changes, Change{Rollout: key, Canary: r.CanaryRevision, From: mem.Verdict, To: judged.Verdict, Why: judged.Why})
			mem.Verdict = judged.Verdict
		}
		switch judged.Verdict {
		case Breach:
			mem.Streak++
			mem.NoData = 0
		case NoData:
			if mem.NoData++; mem.NoData >= after {
				mem.Streak = 0
			}
		default:
			mem.Streak, mem.NoData = 0, 0
		}
		inProgress := r.StableRevision != 0 && r.CanaryRevision != 0 && r.StableRevision != r.CanaryRevision
		baking := r.Baking()
		act := policy.actFor(r)
		alreadyHalted := act == ActHalt && r.Halted()
		if judged.Verdict == Breach && mem.Streak >= after && (inProgress || baking) && mem.ActedOn != r.CanaryRevision && !alreadyHalted {
			d := Decision{
				Rollout: key, Act: act, Asked: act, Canary: r.CanaryRevision, Stable: r.StableRevision, Judged: judged,
				Reason: fmt.Sprintf("%s: %s for %d intervals", cmp.Or(policy.By, "guard"), judged.Why, mem.Streak),
			}
			if baking {
				d.Bake, d.Stable = r.Bake, r.Bake.Previous
				d.BakedFor = r.Bake.Elapsed(verdicts.Report.At)
				d.Reason += fmt.Sprintf(", %d min into its %s bake window", int(d.BakedFor.Minutes()), rollout.ShortDuration(r.Bake.Time))
				switch {
				case act == ActHalt:
					d.Act = ActNotify
					d.Reason += ": " + CompletedBeforeTheBreach(key.Name)
				case act == ActRollback && d.Stable == 0:
					d.Act = ActNotify
					d.Reason += ": no revision before it is kept to roll back to"
				}
			}
			decisions = append(decisions, d)
			mem.ActedOn = r.CanaryRevision
		}
		next[key] = mem
	}
	return next, decisions, changes
}

// Breaching are the rollouts whose canary has been in BREACH for at least after rounds
// in a row (whether or not the guard may act on them), sorted.
func (s State) Breaching(after int) []ref.Rollout {
	var out []ref.Rollout
	for r, mem := range s {
		if mem.Verdict == Breach && mem.Streak >= max(after, 1) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b ref.Rollout) int {
		return strings.Compare(a.Namespace+"/"+a.Name+"/"+string(a.Kind), b.Namespace+"/"+b.Name+"/"+string(b.Kind))
	})
	return out
}

// Retry forgets that the guard acted on the rollout's canary, after the action failed
// (a conflict, RBAC), so that the next breaching round tries again.
func (s State) Retry(r ref.Rollout) {
	if mem, ok := s[r]; ok {
		mem.ActedOn = 0
		s[r] = mem
	}
}
