package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

type fakeActor struct {
	perms   intent.Permissions
	plans   []intent.Request
	applied []intent.Plan
	planErr error
	// changeOnce: the first Apply finds the rollout moved on and returns this plan as now.
	changeOnce *intent.Plan
}

func (f *fakeActor) Permissions(context.Context, intent.Scope) intent.Permissions { return f.perms }

func (f *fakeActor) Plan(_ context.Context, req intent.Request) (intent.Plan, error) {
	f.plans = append(f.plans, req)
	if f.planErr != nil {
		return intent.Plan{}, f.planErr
	}
	// A marker, not a plan's wording: what the real driver says is tested with it, over a
	// fake clientset, in internal/cli (console_actions_test.go).
	return intent.Plan{Request: req, Message: safetext.Line("fake plan: " + string(req.Action) + " " + req.Target.Name)}, nil
}

func (f *fakeActor) Apply(_ context.Context, plan intent.Plan) (intent.Result, error) {
	if now := f.changeOnce; now != nil {
		f.changeOnce = nil
		return intent.Result{}, &intent.ChangedError{Was: plan, Now: *now}
	}
	f.applied = append(f.applied, plan)
	return intent.Result{Plan: plan, Message: safetext.Line("done: " + string(plan.Action) + " " + plan.Target.Name)}, nil
}

// consoleWith is the demo console acting through actor, its permissions answered.
func consoleWith(t *testing.T, actor *fakeActor) Model {
	t.Helper()
	m := consoleAsking(t, actor)
	next, _ := m.Update(permissionsMsg{scope: intent.Scope{Kind: ref.Deployment, Namespace: "demo"}, perms: actor.perms})
	return next.(Model)
}

// consoleAsking is the demo console acting through actor, its permissions not answered.
func consoleAsking(t *testing.T, actor Actor) Model {
	t.Helper()
	m := newConsole(t, 100, 24, styles.Options{})
	m.opts.Actor = actor
	return m
}

// recordingActor is a fakeActor that records the refusals the console reports.
type recordingActor struct {
	fakeActor
	refused []string
}

func (r *recordingActor) Refused(_ context.Context, req intent.Request, reason string) {
	r.refused = append(r.refused, string(req.Action)+" "+req.Target.Name+": "+reason)
}

// A key typed before the permissions are answered does nothing but say so: "allowed until
// answered" let a read-only session over SSH halt a Deployment in 17 runs of 20.
func TestUnansweredPermissionsAllowNothing(t *testing.T) {
	actor := &recordingActor{}
	m := consoleAsking(t, actor)
	// The scope is asked for; the answer has not come.
	next, _ := m.Update(SnapshotMsg(rollout.Snapshot{Rollouts: demoRollouts(), Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	m = next.(Model)
	for _, k := range []string{"h", "p", "r"} {
		m = keyAndRun(m, k)
	}
	s := text(m)
	if len(actor.plans) != 0 || len(actor.applied) != 0 {
		t.Fatalf("acted before the permissions were answered: plans %v, applied %v", actor.plans, actor.applied)
	}
	if !strings.Contains(s, "not available: "+intent.PermissionsPending) {
		t.Errorf("the footer should say the permissions are being checked:\n%s", s)
	}
	if len(actor.refused) != 3 || !strings.Contains(actor.refused[0], "halt search-api: "+intent.PermissionsPending) {
		t.Errorf("refusals recorded %q; want halt, promote and rollback of search-api, pending", actor.refused)
	}
	// The answer comes: the same key now acts.
	next, _ = m.Update(permissionsMsg{scope: intent.Scope{Kind: ref.Deployment, Namespace: "demo"}})
	m = keyAndRun(next.(Model), "h")
	if len(actor.applied) != 1 {
		t.Errorf("h after the answer: applied %v\n%s", actor.applied, text(m))
	}
}

// keyAndRun presses a key and runs the command it returns (plan, apply) to completion.
func keyAndRun(m Model, k string) Model {
	next, cmd := m.Update(press(k))
	m = next.(Model)
	for cmd != nil {
		msg := cmd()
		next, cmd = m.Update(msg)
		m = next.(Model)
	}
	return m
}

func TestRollbackAsksThenApplies(t *testing.T) {
	actor := &fakeActor{}
	m := keyAndRun(consoleWith(t, actor), "r") // search-api is selected
	s := text(m)
	if !strings.Contains(s, "fake plan: rollback search-api?") || !strings.Contains(s, "y/n") {
		t.Fatalf("the confirmation should ask the plan's question with y/n:\n%s", s)
	}
	if len(actor.applied) != 0 {
		t.Fatalf("applied before confirmation")
	}
	m = keyAndRun(m, "j") // a stray key neither confirms nor cancels
	if len(actor.applied) != 0 || !strings.Contains(text(m), "y/n") {
		t.Fatalf("a stray key changed the pending confirmation")
	}
	m = keyAndRun(m, "y")
	if len(actor.applied) != 1 || actor.applied[0].Target.Name != "search-api" || !strings.Contains(text(m), "done: rollback search-api") {
		t.Errorf("y did not apply or report: applied %v\n%s", actor.applied, text(m))
	}
}

func TestPromoteCancelled(t *testing.T) {
	actor := &fakeActor{}
	m := keyAndRun(keyAndRun(consoleWith(t, actor), "j"), "p") // orders-api
	if !strings.Contains(text(m), "promote orders-api") {
		t.Fatalf("no promote confirmation:\n%s", text(m))
	}
	m = keyAndRun(m, "n")
	if len(actor.applied) != 0 || !strings.Contains(text(m), "cancelled; nothing changed") {
		t.Errorf("n should cancel: applied %v\n%s", actor.applied, text(m))
	}
}

func TestHaltIsImmediate(t *testing.T) {
	actor := &fakeActor{}
	m := keyAndRun(consoleWith(t, actor), "h")
	if len(actor.applied) != 1 || actor.applied[0].Action != intent.Halt || !strings.Contains(text(m), "done: halt search-api") {
		t.Errorf("h should halt at once: %v\n%s", actor.applied, text(m))
	}
}

func TestForbiddenActionsSayWhy(t *testing.T) {
	actor := &fakeActor{perms: intent.Permissions{Denied: map[intent.Action]string{
		intent.Halt: "forbidden: cannot patch deployments in demo", intent.Promote: "forbidden: cannot patch deployments in demo",
		intent.Rollback: "forbidden: cannot update deployments in demo"}}}
	m := consoleWith(t, actor)
	next, _ := m.Update(permissionsMsg{scope: intent.Scope{Kind: ref.Deployment, Namespace: "demo"}, perms: actor.perms})
	m = keyAndRun(next.(Model), "h")
	s := text(m)
	if len(actor.plans) != 0 || !strings.Contains(s, "halt not available: forbidden: cannot patch deployments in demo") || !strings.Contains(s, "actions off") {
		t.Errorf("a forbidden halt should be refused with the reason, without calling the API:\n%s", s)
	}
}

func TestActionErrorsShowInTheFooter(t *testing.T) {
	actor := &fakeActor{planErr: errors.New("search-api has no previous revision to roll back to")}
	if s := text(keyAndRun(consoleWith(t, actor), "r")); !strings.Contains(s, "no previous revision") {
		t.Errorf("the error should be shown:\n%s", s)
	}
}

// A promote confirmed at one step and found at another when applied: nothing written, the
// new plan asked for, and only its own "y" writes it.
func TestChangedPlanIsAskedAgain(t *testing.T) {
	skip := intent.Plan{Request: intent.Request{Action: intent.Promote, Target: ref.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: "orders-api"}},
		Message: "promote orders-api: skip from step 2/4 (analysis) to step 3/4"}
	actor := &fakeActor{changeOnce: &skip}
	m := keyAndRun(keyAndRun(consoleWith(t, actor), "j"), "p") // orders-api
	m = keyAndRun(m, "y")
	s := strings.Join(strings.Fields(text(m)), " ") // the question wraps at 100 columns
	if len(actor.applied) != 0 || !strings.Contains(s, "skip from step 2/4 (analysis) to step 3/4? y/n") || !strings.Contains(s, "changed since you confirmed") {
		t.Fatalf("a changed plan should be asked again, nothing applied (applied %v):\n%s", actor.applied, s)
	}
	m = keyAndRun(m, "y")
	if len(actor.applied) != 1 || !strings.HasSuffix(string(actor.applied[0].Message), string(skip.Message)) {
		t.Errorf("the new plan confirmed: applied %v", actor.applied)
	}
}
