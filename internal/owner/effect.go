package owner

import (
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Effect is what the owner will do to what an action writes, for the confirmation line,
// the status line and the CLI's refusal.
type Effect struct {
	// Reverts: Yes, the owner will put back what the action wrote (When says when);
	// No, it leaves it; Unknown, it may (the owner could not be read).
	Reverts State
	// When: "within seconds", "within 5m0s", "at the next change in Git", "at the next
	// helm upgrade"; "" when it does not revert.
	When string
	// Conflicts: the owner's next write fails over the fields the action wrote instead of
	// reverting them (Helm 4 applies server-side); Unknown when it cannot be told.
	Conflicts State
	// Holdable: holding the owner first keeps what the action writes (Argo CD auto-sync,
	// Flux suspend), and the caller may hold it.
	Holdable bool
	// Text says it in the user's words, one line: "Argo CD app argocd/orders (self-heal
	// on) will put 1.8.0 back within seconds". "" when there is no owner or nothing to say.
	Text safetext.Text
}

// Effect is what v's owner will do after action a on a rollout of that kind. back is
// what it would put back, in the user's words ("1.8.0", "revision 7"); "" says "Git's
// version" or "the chart's version".
func (v View) Effect(kind ref.Kind, a intent.Action, back string) Effect {
	if v.Ref.Tool == "" {
		return Effect{Reverts: No, Conflicts: No}
	}
	who := safetext.Line(v.Ref.String())
	if v.Ref.Weak {
		who = safetext.Sprintf("%s (if it is Argo CD's: only its %s says so)", who, v.Ref.By)
	}
	switch a {
	case intent.Halt:
		return v.haltEffect(kind, who)
	case intent.Rollback:
		return v.rollbackEffect(kind, who, back)
	}
	// promote, full promote, retry: what they write (spec.paused=false, argo's status)
	// is what Git says anyway, or status, which no owner applies.
	return Effect{Reverts: No, Conflicts: No}
}

func (v View) haltEffect(kind ref.Kind, who safetext.Text) Effect {
	if kind == ref.ArgoRollout {
		// An abort writes only the Rollout's status: no owner applies status (Argo CD
		// ignores it since v3.0).
		return Effect{Reverts: No, Conflicts: No, Text: safetext.Sprintf("%s leaves the abort alone (it writes only status)", who)}
	}
	if v.Ref.Kind != KindKustomization {
		// spec.paused is only on the live object: Argo CD's diff ignores a field only the
		// live object has; Helm (both three-way merge and server-side apply) and
		// helm-controller leave fields outside the chart alone.
		return Effect{Reverts: No, Conflicts: No, Text: safetext.Sprintf("%s leaves the halt alone (spec.paused is not in %s)", who, source(v.Ref))}
	}
	// Flux's kustomize-controller applies server-side and drops the fields other managers
	// set by Update: measured, it removed spec.paused within 10 s of its reconcile.
	if e, left := v.fluxLeft(who, "halt"); left {
		return e
	}
	e := Effect{Reverts: Yes, When: within(v.Interval), Conflicts: No, Holdable: v.Access == Read}
	if v.Access != Read {
		e.Reverts = Unknown
		e.Text = safetext.Sprintf("%s may remove the halt at its next reconcile (suspend %s)", who, v.accessWords())
		return e
	}
	e.Text = safetext.Sprintf("%s will remove the halt %s (it drops fields it did not apply)", who, e.When)
	return e
}

func (v View) rollbackEffect(kind ref.Kind, who safetext.Text, back string) Effect {
	what := safetext.Line(back)
	if what == "" {
		what = safetext.Line(source(v.Ref) + "'s version")
	}
	switch v.Ref.Kind {
	case KindApplication:
		if v.Access != Read {
			return Effect{Reverts: Unknown, Conflicts: No, Text: safetext.Sprintf("%s may put %s back (self-heal %s)", who, what, v.accessWords())}
		}
		if v.Held != nil && v.AutoSync != Yes {
			return Effect{Reverts: No, Conflicts: No, Text: safetext.Sprintf("%s: auto-sync held by kubectl-pyroll; the rollback stays until release-hold", who)}
		}
		if v.Syncing {
			return Effect{Reverts: Yes, When: "when its running sync applies", Conflicts: No,
				Text: safetext.Sprintf("a sync of %s is running: it will put %s back when it applies (a hold does not stop it)", who, what)}
		}
		switch {
		case v.AutoSync == Yes && v.SelfHeal == Yes:
			e := Effect{Reverts: Yes, When: "within seconds", Conflicts: No, Holdable: true,
				Text: safetext.Sprintf("%s (self-heal on) will put %s back within seconds", who, what)}
			e.Text = v.appSetNote(e.Text)
			return e
		case v.AutoSync == Yes:
			e := Effect{Reverts: Yes, When: "at the next change in Git", Conflicts: No, Holdable: true,
				Text: safetext.Sprintf("%s (auto-sync on, self-heal off) will put %s back at the next change in Git", who, what)}
			e.Text = v.appSetNote(e.Text)
			return e
		}
		return Effect{Reverts: No, Conflicts: No, Text: safetext.Sprintf("%s (auto-sync off) will show OutOfSync; a sync would put %s back", who, what)}
	case KindKustomization:
		if e, left := v.fluxLeft(who, "rollback"); left {
			return e
		}
		if v.Access != Read {
			return Effect{Reverts: Unknown, Conflicts: No, Text: safetext.Sprintf("%s may put %s back at its next reconcile (suspend %s)", who, what, v.accessWords())}
		}
		when := within(v.Interval)
		return Effect{Reverts: Yes, When: when, Conflicts: No, Holdable: true,
			Text: safetext.Sprintf("%s will put %s back %s", who, what, when)}
	case KindHelmRelease:
		if e, left := v.fluxLeft(who, "rollback"); left {
			return e
		}
		if v.Access != Read {
			return Effect{Reverts: Unknown, Conflicts: No, Text: safetext.Sprintf("%s may put %s back (suspend %s)", who, what, v.accessWords())}
		}
		if v.DriftDetection {
			when := within(v.Interval)
			return Effect{Reverts: Yes, When: when, Conflicts: No, Holdable: true,
				Text: safetext.Sprintf("%s (drift detection on) will put %s back %s", who, what, when)}
		}
		return Effect{Reverts: Yes, When: "at its next upgrade", Conflicts: No, Holdable: true,
			Text: safetext.Sprintf("%s will put %s back at its next upgrade (a chart or values change)", who, what)}
	case KindRelease:
		e := Effect{Reverts: Yes, When: "at the next helm upgrade", Conflicts: v.ServerSideApply}
		switch v.ServerSideApply {
		case Yes:
			e.Reverts = No
			e.When = ""
			e.Text = safetext.Sprintf("the next helm upgrade of %s will fail with a conflict over what the rollback wrote (Helm 4); release-hold hands it back", who)
		case No:
			e.Text = safetext.Sprintf("the next helm upgrade of %s will put %s back (Helm 3)", who, what)
		default:
			e.Text = safetext.Sprintf("the next helm upgrade of %s will put %s back (Helm 3) or fail with a conflict (Helm 4; release-hold hands it back)", who, what)
		}
		return e
	}
	return Effect{Reverts: Unknown, Conflicts: Unknown}
}

// fluxLeft is the effect when Flux will leave the object alone: suspended (by us or
// anyone) or reconcile disabled on the object.
func (v View) fluxLeft(who safetext.Text, action string) (Effect, bool) {
	switch {
	case v.ReconcileDisabled && v.Ref.Kind == KindKustomization:
		return Effect{Reverts: No, Conflicts: No, Text: safetext.Sprintf("%s leaves the %s alone (reconcile disabled on the object)", who, action)}, true
	case v.Access == Read && v.Suspended == Yes && v.Held != nil:
		return Effect{Reverts: No, Conflicts: No, Text: safetext.Sprintf("%s is suspended by kubectl-pyroll: the %s stays until release-hold", who, action)}, true
	case v.Access == Read && v.Suspended == Yes:
		return Effect{Reverts: No, Conflicts: No, Text: safetext.Sprintf("%s is suspended: the %s stays until it is resumed", who, action)}, true
	}
	return Effect{}, false
}

// appSetNote adds that an ApplicationSet may undo the hold.
func (v View) appSetNote(t safetext.Text) safetext.Text {
	if v.ApplicationSet == "" {
		return t
	}
	return safetext.Sprintf("%s; its ApplicationSet %s may turn auto-sync back on unless its ignoreApplicationDifferences covers spec.syncPolicy", t, v.ApplicationSet)
}

func (v View) accessWords() string {
	switch v.Access {
	case NoAccess:
		return "unknown: no access"
	case Absent:
		return "unknown: not found"
	case Unreadable:
		return "unknown: unreadable"
	}
	return "unknown: not read"
}

// within is "within 5m0s" (Flux's interval), or "at its next reconcile".
func within(interval time.Duration) string {
	if interval <= 0 {
		return "at its next reconcile"
	}
	return "within " + interval.String()
}

// source is where the owner's version comes from.
func source(r Ref) string {
	switch r.Kind {
	case KindRelease, KindHelmRelease:
		return "the chart"
	}
	return "Git"
}
