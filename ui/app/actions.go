package app

import (
	"context"
	"errors"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/confirm"
	"github.com/pyroll/kubectl-pyroll/ui/footer"
)

// Actor carries out the console's intents (the CLI hands it the actions driver). Its
// methods do I/O, so the console calls them only inside commands.
type Actor interface {
	Permissions(ctx context.Context, scope intent.Scope) intent.Permissions
	Plan(ctx context.Context, req intent.Request) (intent.Plan, error)
	Apply(ctx context.Context, plan intent.Plan) (intent.Result, error)
}

type permissionsMsg struct {
	scope intent.Scope
	perms intent.Permissions
}

type planMsg struct {
	plan intent.Plan
	err  error
}

type resultMsg struct {
	result intent.Result
	err    error
}

const actionTimeout = 30 * time.Second

// withDeadline runs one round of I/O inside a command, under a deadline: the console
// never does I/O in Update or View.
func withDeadline(timeout time.Duration, do func(ctx context.Context) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return do(ctx)
	}
}

// call runs one round of I/O with the actor.
func (m Model) call(do func(ctx context.Context, actor Actor) tea.Msg) tea.Cmd {
	actor := m.opts.Actor
	return withDeadline(actionTimeout, func(ctx context.Context) tea.Msg { return do(ctx, actor) })
}

func (m Model) fetchPermissions(scope intent.Scope) tea.Cmd {
	return m.call(func(ctx context.Context, actor Actor) tea.Msg {
		return permissionsMsg{scope: scope, perms: actor.Permissions(ctx, scope)}
	})
}

func (m Model) planCmd(req intent.Request) tea.Cmd {
	return m.call(func(ctx context.Context, actor Actor) tea.Msg {
		plan, err := actor.Plan(ctx, req)
		return planMsg{plan: plan, err: err}
	})
}

func (m Model) applyCmd(plan intent.Plan) tea.Cmd {
	return m.call(func(ctx context.Context, actor Actor) tea.Msg {
		result, err := actor.Apply(ctx, plan)
		return resultMsg{result: result, err: err}
	})
}

// haltCmd is the emergency brake: decide and apply at once, no confirmation. Where the
// rollout's GitOps owner would undo the halt (Flux drops spec.paused at its next
// reconcile) and may be held, it is held in the same action: a halt that is gone in ten
// seconds stops nothing. The status line says so.
func (m Model) haltCmd(req intent.Request) tea.Cmd {
	return m.call(func(ctx context.Context, actor Actor) tea.Msg {
		plan, err := actor.Plan(ctx, req)
		if err != nil || plan.Noop {
			return resultMsg{result: intent.Result{Plan: plan, Message: plan.Message}, err: err}
		}
		plan.HoldOwner = plan.Owner.Undone() && plan.Owner.Holdable
		result, err := actor.Apply(ctx, plan)
		return resultMsg{result: result, err: err}
	})
}

// HoldReleaser is an Actor that gives back a GitOps owner a halt or rollback held (the
// actions service; the jump host's audited actor).
type HoldReleaser interface {
	ReleaseHold(ctx context.Context, target ref.Rollout, reason string) (safetext.Text, error)
}

// releaseHoldCmd gives the owner of target back.
func (m Model) releaseHoldCmd(plan intent.Plan) tea.Cmd {
	return m.call(func(ctx context.Context, actor Actor) tea.Msg {
		releaser, ok := actor.(HoldReleaser)
		if !ok {
			return resultMsg{err: errors.New("release-hold is not available here")}
		}
		msg, err := releaser.ReleaseHold(ctx, plan.Target, plan.Reason)
		return resultMsg{result: intent.Result{Plan: plan, Message: msg}, err: err}
	})
}

// releaseHoldKey asks before giving back the held owner of the rollout open (or selected).
func (m Model) releaseHoldKey() (Model, tea.Cmd) {
	r, ok := m.target()
	if !ok {
		return m, nil
	}
	v, read := m.owners[r.Ref()]
	switch {
	case m.opts.Actor == nil:
		m.footer.SetStatus(footer.Status{Text: "release-hold is not available here", Bad: true})
		return m, nil
	case m.busy:
		m.footer.SetStatus(footer.Status{Text: "an action is still running; wait for its result", Bad: true})
		return m, nil
	case r.Owner == nil:
		m.footer.SetStatus(footer.Status{Text: safetext.Sprintf("%s has no GitOps owner: nothing to release", r.Name), Bad: true})
		return m, nil
	case !read || (v.Held == nil && v.Ref.Kind != owner.KindRelease):
		m.footer.SetStatus(footer.Status{Text: safetext.Sprintf("%s is not held by kubectl-pyroll: nothing to release", safetext.Line(r.Owner.Owner.String())), Bad: true})
		return m, nil
	}
	what := "it applies Git's version again at its next sync"
	if v.Ref.Kind == owner.KindRelease {
		what = "kubectl-pyroll's fields go back to it: the next helm upgrade applies the chart's version"
	}
	m.confirm.Ask(intent.Plan{Request: intent.Request{Action: intent.ReleaseHold, Target: r.Ref(), Reason: "from the console"},
		Message: safetext.Sprintf("release %s (%s)", safetext.Line(v.Ref.String()), what)})
	m.footer.SetStatus(footer.Status{})
	return m, nil
}

// RefusalRecorder is an Actor that keeps a record of the actions the console refused
// (the jump host's audit log): what a user tried matters as much as what was done.
type RefusalRecorder interface {
	Refused(ctx context.Context, req intent.Request, reason string)
}

// refusedCmd tells the actor, when it records refusals, that req was refused and why.
func (m Model) refusedCmd(req intent.Request, why string) tea.Cmd {
	recorder, ok := m.opts.Actor.(RefusalRecorder)
	if !ok {
		return nil
	}
	return m.call(func(ctx context.Context, _ Actor) tea.Msg {
		recorder.Refused(ctx, req, why)
		return nil
	})
}

// target is the rollout an action key applies to: the one open, else the one selected.
func (m Model) target() (rollout.Rollout, bool) {
	if m.screen == detailScreen || (m.screen == pageScreen && m.pageReturn == detailScreen) {
		return m.detail.Rollout(), true
	}
	return m.list.Selected()
}

// actionKey handles h, p and r; ok is false when msg is none of them.
func (m Model) actionKey(msg tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	var action intent.Action
	switch {
	case key.Matches(msg, m.keys.Halt):
		action = intent.Halt
	case key.Matches(msg, m.keys.Promote):
		action = intent.Promote
	case key.Matches(msg, m.keys.Rollback):
		action = intent.Rollback
	case key.Matches(msg, m.keys.PromoteFull):
		action = intent.PromoteFull
	case key.Matches(msg, m.keys.ReleaseHold):
		next, cmd := m.releaseHoldKey()
		return next, cmd, true
	default:
		return m, nil, false
	}
	r, ok := m.target()
	if !ok {
		return m, nil, true
	}
	if action == intent.PromoteFull && r.Kind != ref.ArgoRollout {
		m.footer.SetStatus(footer.Status{Text: "P (full promote) is for Argo Rollouts: a Deployment has no steps; p resumes it", Bad: true})
		return m, nil, true
	}
	if m.opts.Actor == nil {
		m.footer.SetStatus(footer.Status{Text: safetext.Sprintf("%s is not available here", action), Bad: true})
		return m, nil, true
	}
	if m.busy {
		m.footer.SetStatus(footer.Status{Text: "an action is still running; wait for its result", Bad: true})
		return m, nil, true
	}
	req := intent.Request{Action: action, Target: r.Ref(), Reason: "from the console"}
	if allowed, why := m.permissions(r).Allowed(action); !allowed {
		m.footer.SetStatus(footer.Status{Text: safetext.Sprintf("%s not available: %s", action.Name(r.Kind), why), Bad: true})
		return m, m.refusedCmd(req, why), true
	}
	m.busy = true
	if action == intent.Halt {
		// "halting", "aborting": the emergency brake says what it does to this kind.
		m.footer.SetStatus(footer.Status{Text: safetext.Line(action.Name(r.Kind) + "ing " + r.Name + "…")})
		return m, m.haltCmd(req), true
	}
	m.footer.SetStatus(footer.Status{Text: safetext.Line("checking " + r.Name + "…")})
	return m, m.planCmd(req), true
}

func (m Model) handleActionMsg(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case permissionsMsg:
		m.perms[msg.scope] = msg.perms
	case confirm.AnsweredMsg:
		if !msg.Yes {
			m.footer.SetStatus(footer.Status{Text: "cancelled; nothing changed"})
			break
		}
		m.busy = true
		m.footer.SetStatus(footer.Status{Text: "applying: " + msg.Plan.Message + "…"})
		m.resize()
		if msg.Plan.Action == intent.ReleaseHold {
			return m, m.releaseHoldCmd(msg.Plan)
		}
		return m, m.applyCmd(msg.Plan)
	case planMsg:
		m.busy = false
		switch {
		case msg.err != nil:
			m.footer.SetStatus(footer.Status{Text: safetext.Line(msg.err.Error()), Bad: true})
		case msg.plan.Noop:
			m.footer.SetStatus(footer.Status{Text: msg.plan.Message})
		default:
			m.confirm.Ask(msg.plan)
			m.footer.SetStatus(footer.Status{})
		}
	case resultMsg:
		m.busy = false
		var changed *intent.ChangedError
		switch {
		case errors.As(msg.err, &changed) && !changed.Now.Noop && changed.Now.Action != intent.Halt:
			// What was confirmed no longer holds: ask again, about what would be written now.
			now := changed.Now
			now.Message = "changed since you confirmed, nothing written; now: " + now.Message
			m.confirm.Ask(now)
			m.footer.SetStatus(footer.Status{})
		case msg.err != nil:
			m.footer.SetStatus(footer.Status{Text: safetext.Line(msg.err.Error()), Bad: true})
		case msg.result.Warning != "":
			m.footer.SetStatus(footer.Status{Text: msg.result.Message + " (" + msg.result.Warning + ")", Bad: true})
		case msg.result.Held != "":
			m.footer.SetStatus(footer.Status{Text: msg.result.Message + "; " + msg.result.Held + " held first (release-hold gives it back)", Good: true})
		case msg.result.Owner.Undone() && msg.result.Message != "":
			// Done, and the owner will undo it: success is not what the person should read.
			m.footer.SetStatus(footer.Status{Text: msg.result.Message + ", but " + msg.result.Owner.Text, Bad: true})
		default:
			m.footer.SetStatus(footer.Status{Text: msg.result.Message, Good: true})
		}
	}
	m.resize()
	return m, nil
}

func (m Model) permsAsked(scope intent.Scope) bool {
	_, asked := m.perms[scope]
	return asked
}
