// Package intent holds what the console and the commands ask of the actions driver, and
// what they get back, as plain data: the console never sees a Kubernetes client.
package intent

import (
	"errors"
	"fmt"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Action is one of the things an on-call engineer does to a rollout. The three keys mean
// the same for every kind; what they send differs: for an Argo Rollout halt is an abort
// and rollback an undo to the stable revision.
type Action string

const (
	Halt     Action = "halt"
	Promote  Action = "promote"
	Rollback Action = "rollback"
	// PromoteFull (Argo Rollouts) skips the remaining steps, analysis and pauses.
	PromoteFull Action = "promote-full"
	// Retry (Argo Rollouts) rolls an aborted rollout out again; a promote of an aborted
	// rollout is planned as a retry, which its confirmation says.
	Retry Action = "retry"
	// ReleaseHold gives back a GitOps owner an action held (its own command and key; not
	// one of Actions: it writes the owner, not the rollout).
	ReleaseHold Action = "release-hold"
)

// Actions are every action, in the order help lists them.
var Actions = []Action{Halt, Promote, PromoteFull, Rollback, Retry}

// words name each action per kind: what it is called, and what it did.
var words = map[ref.Kind]map[Action][2]string{
	ref.Deployment: {
		Halt: {"halt", "halted"}, Promote: {"promote", "promoted"}, Rollback: {"rollback", "rolled back"},
	},
	ref.ArgoRollout: {
		Halt: {"abort", "aborted"}, Promote: {"promote", "promoted"}, Rollback: {"undo", "undid"},
		PromoteFull: {"full promote", "fully promoted"}, Retry: {"retry", "retried"},
	},
}

// Name is the action as a rollout of that kind calls it: halt is "abort" and rollback
// "undo" for an Argo Rollout, as argo's own plugin names them.
func (a Action) Name(kind ref.Kind) string {
	if w, ok := words[kind][a]; ok {
		return w[0]
	}
	return string(a)
}

// Done is the action's past tense for that kind: "halted", "aborted", "undid".
func (a Action) Done(kind ref.Kind) string {
	if w, ok := words[kind][a]; ok {
		return w[1]
	}
	return string(a) + "ed"
}

// Request asks for an action on one rollout.
type Request struct {
	Action Action
	// Target is the rollout acted on, its kind included.
	Target ref.Rollout
	Reason string
	// ToRevision, for a rollback: 0 means the previous known-good revision.
	ToRevision int64
	// Guard names the guard that acts ("" for a person): its Lease ("pyroll/kubectl-pyroll-guard"),
	// "guard" when it runs without one, "auto-halt" for the console's. Its action is
	// remembered on the object (GuardActedAnnotation) for any guard that starts later.
	Guard string
	// HoldOwner holds the rollout's GitOps owner (Argo CD auto-sync off, Flux suspended)
	// before the write, so that what is written stays: one action in the audit.
	HoldOwner bool
}

// OwnerNote is what the rollout's GitOps owner will do to the planned write, for the
// confirmation and the CLI's refusal; zero when nobody else writes the rollout.
type OwnerNote struct {
	// Who is the owner: "Flux Kustomization flux-system/apps".
	Who safetext.Text
	// Reverts: "yes" (it will put back what the action writes), "no", or "unknown" (its
	// object could not be read).
	Reverts string
	// Text says it in the user's words: "Argo CD app argocd/orders (self-heal on) will
	// put 1.8.0 back within seconds".
	Text safetext.Text
	// Conflicts: the owner's next write fails over what the action wrote instead of
	// reverting it (Helm 4 applies server-side: the CI deploy that would ship the fix is
	// blocked until release-hold).
	Conflicts bool
	// Holdable: holding the owner first keeps the write, and the user may hold it.
	Holdable bool
	// HoldWords is what the hold does, for the question: "hold auto-sync", "suspend it".
	HoldWords string
}

// Undone says whether the owner will not let the write simply stay: it puts it back, or
// its next write conflicts with it.
func (n OwnerNote) Undone() bool { return n.Reverts == "yes" || n.Conflicts }

// Build is what a revision runs, as far as a confirmation needs to say.
type Build struct {
	Revision int64
	Image    safetext.Text
	GitSHA   safetext.Text
	Version  safetext.Text
	LockHash safetext.Text
}

// Plan is what an action would change, decided from the Deployment as it was read
// (ResourceVersion): applying it fails rather than overwrite a newer edit.
type Plan struct {
	Request
	ResourceVersion string
	From, To        Build
	// Noop: nothing to do (already halted, nothing to promote); Message says why.
	Noop    bool
	Message safetext.Text
	// Decision is what was decided beyond the builds, as it will be written: an Argo
	// Rollout's promote branch, step move and patches, a rollback's target template. Apply
	// writes a plan only when a fresh decision has the same one: what the person confirmed
	// is what is written.
	Decision string
	// Owner is what the rollout's GitOps owner will do to the write (zero: no owner, or
	// not asked).
	Owner OwnerNote
	// Held is the owner the action held before its write ("Flux Kustomization
	// flux-system/apps"), set by Apply; "" when none was held.
	Held safetext.Text
}

// ErrChanged means the rollout changed after the plan was made, so that the plan no longer
// holds; nothing was written.
var ErrChanged = errors.New("changed since the plan was made")

// ChangedError is ErrChanged with the plan as it would be decided now, for a new
// confirmation.
type ChangedError struct {
	Was, Now Plan
}

func (e *ChangedError) Error() string {
	t := e.Now.Target
	if e.Now.Noop {
		return fmt.Sprintf("%s/%s %v: now nothing to do (%s); nothing was written", t.Namespace, t.Name, ErrChanged, e.Now.Message)
	}
	return fmt.Sprintf("%s/%s %v: you confirmed %q, it would now be %q; nothing was written: look again and confirm anew", t.Namespace, t.Name, ErrChanged, e.Was.Message, e.Now.Message)
}

// Is makes errors.Is(err, ErrChanged) true.
func (e *ChangedError) Is(target error) bool { return target == ErrChanged }

// Result is what happened.
type Result struct {
	Plan
	At time.Time
	// Message is the one line for the footer or the terminal.
	Message safetext.Text
	// Warning is something that went wrong besides (e.g. the audit Event was refused).
	Warning safetext.Text
}

// Scope is where permissions are asked and hold: one kind of rollout in one namespace
// (an Argo Rollout is patched through other resources than a Deployment).
type Scope struct {
	// Cluster is the context (ref.Rollout.Cluster): access differs per cluster.
	Cluster   string
	Kind      ref.Kind
	Namespace string
}

// ScopeOf is the scope a rollout's actions are checked in.
func ScopeOf(r ref.Rollout) Scope {
	return Scope{Cluster: r.Cluster, Kind: r.Kind, Namespace: r.Namespace}
}

// Permissions say which actions the user may take in a scope, and why not.
type Permissions struct {
	// Denied maps an action to the reason it is not available ("read-only",
	// "forbidden: cannot patch deployments in demo"); absent means allowed.
	Denied map[Action]string
	// Pending: asked, not answered yet. Nothing is allowed until the answer comes: a key
	// typed in the session's first instant must not act on a guess.
	Pending bool
}

// PermissionsPending is the answer until the answer comes.
const PermissionsPending = "checking permissions…"

// Allowed reports whether the action may be taken, and the reason when not.
func (p Permissions) Allowed(a Action) (bool, string) {
	if p.Pending {
		return false, PermissionsPending
	}
	if reason, ok := p.Denied[a]; ok {
		return false, reason
	}
	return true, ""
}

// LastAction is the audit record kubectl-pyroll leaves on a Deployment (annotation
// pyroll.dev/last-action).
type LastAction struct {
	Action Action    `json:"action"`
	User   string    `json:"user"`
	Time   time.Time `json:"time"`
	Reason string    `json:"reason,omitempty"`
	From   int64     `json:"fromRevision,omitempty"`
	To     int64     `json:"toRevision,omitempty"`
	// Guard names the guard that acted ("" for a person).
	Guard string `json:"guard,omitempty"`
	// Held is the GitOps owner held with the action, so that it stays: "Flux
	// Kustomization flux-system/apps" ("" when none).
	Held string `json:"held,omitempty"`
}

// LastActionAnnotation is where LastAction is kept.
const LastActionAnnotation = "pyroll.dev/last-action"

// GuardActed is the guard's memory on the object: which canary revision a guard acted on.
// It is kept apart from LastAction because a person's promote after a guard halt replaces
// LastAction, and that promote is exactly what a restarted guard must not undo.
type GuardActed struct {
	Revision int64     `json:"revision"`
	Action   Action    `json:"action"`
	Guard    string    `json:"guard"`
	Time     time.Time `json:"time"`
}

// GuardActedAnnotation is where GuardActed is kept.
const GuardActedAnnotation = "pyroll.dev/guard-acted"
