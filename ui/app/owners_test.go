package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

type fakeOwners struct {
	views map[ref.Rollout]owner.View
	asked []ref.Rollout
}

func (f *fakeOwners) ReadFor(_ context.Context, target ref.Rollout, d owner.Detection) owner.View {
	f.asked = append(f.asked, target)
	if v, ok := f.views[target]; ok {
		return v
	}
	return owner.UnreadView(d, owner.NoAccess, "forbidden")
}

// orders-api is applied by a Flux Kustomization every 20 s; payments-api by an Argo CD
// app this user may not read.
func withOwners(t *testing.T) (Model, *fakeOwners) {
	t.Helper()
	flux := owner.Ref{Tool: owner.Flux, Kind: owner.KindKustomization, Namespace: "flux-system", Name: "apps", By: "label " + owner.FluxKustomizeNameLabel}
	argocd := owner.Ref{Tool: owner.ArgoCD, Kind: owner.KindApplication, Namespace: "argocd", Name: "payments", By: "annotation " + owner.ArgoCDTrackingIDAnnotation}
	rollouts := demoRollouts()
	for i := range rollouts {
		switch rollouts[i].Name {
		case "orders-api":
			rollouts[i].Owner = &owner.Detection{Owner: &flux}
		case "payments-api":
			rollouts[i].Owner = &owner.Detection{Owner: &argocd}
		}
	}
	orders := ref.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: "orders-api"}
	fake := &fakeOwners{views: map[ref.Rollout]owner.View{
		orders: {Ref: flux, Access: owner.Read, Suspended: owner.No, Interval: 20 * time.Second, Revision: "main@sha1:3f2a9c1b7e5d3a1f9c7b5e3d1a9f7c5b3e1d9a7f"},
	}}
	m := newConsole(t, 100, 30, styles.Options{})
	m.opts.Owners = fake
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	return m, fake
}

func TestOwnersAreReadAndMarkedInTheList(t *testing.T) {
	m, fake := withOwners(t)
	if !m.ownersReading {
		t.Fatal("a snapshot with rollouts that name an owner did not start a read of the owners")
	}
	m.ownersReading = false
	cmd := m.maybeReadOwners()
	if cmd == nil {
		t.Fatal("no read of the owners")
	}
	m = send(m, cmd())
	if len(fake.asked) != 2 {
		t.Errorf("asked for %v, want orders-api and payments-api only (search-api names no owner)", fake.asked)
	}
	s := text(m)
	if !strings.Contains(rowOf(s, "orders-api"), "orders-api ⟲") {
		t.Errorf("orders-api's Flux owner will revert a rollback: no ⟲ on its row:\n%s", s)
	}
	if !strings.Contains(rowOf(s, "payments-api"), "payments-api ⟲?") {
		t.Errorf("payments-api's owner could not be read: no ⟲? on its row:\n%s", s)
	}
	if strings.Contains(rowOf(s, "search-api"), "⟲") {
		t.Errorf("search-api has no owner but is marked:\n%s", s)
	}
	// Read again only after ownersEvery.
	if m.maybeReadOwners() != nil {
		t.Error("the owners were read again at once")
	}
	m.now = m.now.Add(ownersEvery)
	if m.maybeReadOwners() == nil {
		t.Errorf("the owners were not read again after %s", ownersEvery)
	}
}

func TestDetailSaysWhatTheOwnerDoesToEachAction(t *testing.T) {
	m, _ := withOwners(t)
	m.ownersReading = false
	m = send(m, m.maybeReadOwners()())
	m = send(m, press("down"), press("enter")) // orders-api, the second row
	s := text(m)
	for _, want := range []string{
		"OWNER",
		"managed by Flux Kustomization flux-system/apps (every 20s, applied main@sha1:3f2a9c1)",
		"halt: Flux Kustomization flux-system/apps will remove the halt within 20s",
		"rollback: Flux Kustomization flux-system/apps will put Git's version back within 20s",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the detail lacks %q:\n%s", want, s)
		}
	}
}

// ownedActor plans every action as undone by a Flux Kustomization, and releases holds.
type ownedActor struct {
	fakeActor
	released []ref.Rollout
}

func (o *ownedActor) Plan(ctx context.Context, req intent.Request) (intent.Plan, error) {
	plan, err := o.fakeActor.Plan(ctx, req)
	plan.Owner = intent.OwnerNote{Who: "Flux Kustomization flux-system/apps", Reverts: "yes", Holdable: true, HoldWords: "suspend it",
		Text: "Flux Kustomization flux-system/apps will put 1.8.0 back within 20s"}
	return plan, err
}

func (o *ownedActor) ReleaseHold(_ context.Context, target ref.Rollout, _ string) (safetext.Text, error) {
	o.released = append(o.released, target)
	return "released Flux Kustomization flux-system/apps", nil
}

func ownedConsole(t *testing.T, actor *ownedActor) Model {
	t.Helper()
	actor.perms = intent.Permissions{}
	m := consoleAsking(t, actor)
	next, _ := m.Update(permissionsMsg{scope: intent.Scope{Kind: ref.Deployment, Namespace: "demo"}, perms: actor.perms})
	return next.(Model)
}

func TestRollbackUnderAnOwnerOffersToHoldIt(t *testing.T) {
	for _, tc := range []struct {
		key  string
		hold bool
	}{{"y", true}, {"a", false}} {
		actor := &ownedActor{}
		m := ownedConsole(t, actor)
		m, _ = run(m, press("r"))
		s := text(m)
		if want := "suspend it and rollback [y], rollback anyway [a], cancel [n]"; !strings.Contains(strings.ReplaceAll(s, "\n", " "), want) {
			t.Fatalf("the question does not offer the hold (%q):\n%s", want, s)
		}
		m, cmd := run(m, press(tc.key))
		send(m, cmd())
		if len(actor.applied) != 1 || actor.applied[0].HoldOwner != tc.hold {
			t.Fatalf("%s: applied %+v, want one plan with HoldOwner=%t", tc.key, actor.applied, tc.hold)
		}
	}
}

func TestHaltUnderAnOwnerThatUndoesItHoldsItInOneKey(t *testing.T) {
	actor := &ownedActor{}
	m := ownedConsole(t, actor)
	m, _ = run(m, press("h"))
	if len(actor.applied) != 1 || !actor.applied[0].HoldOwner {
		t.Fatalf("applied %+v, want the halt with its owner held", actor.applied)
	}
}

func TestReleaseHoldKey(t *testing.T) {
	actor := &ownedActor{}
	m := ownedConsole(t, actor)
	held := owner.Ref{Tool: owner.Flux, Kind: owner.KindKustomization, Namespace: "flux-system", Name: "apps"}
	rollouts := demoRollouts()
	rollouts[0].Owner = &owner.Detection{Owner: &held}
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	m, _ = run(m, press("R"))
	if !strings.Contains(text(m), "not held by kubectl-pyroll") {
		t.Errorf("R before the owner is known held:\n%s", text(m))
	}
	m = send(m, ownersMsg{views: map[ref.Rollout]owner.View{rollouts[0].Ref(): {Ref: held, Access: owner.Read, Suspended: owner.Yes, Held: &owner.HoldRecord{By: "alice"}}}})
	m, _ = run(m, press("R"))
	if !strings.Contains(text(m), "release Flux Kustomization flux-system/apps") {
		t.Fatalf("R asks nothing:\n%s", text(m))
	}
	m, cmd := run(m, press("y"))
	m = send(m, cmd())
	if len(actor.released) != 1 || actor.released[0] != rollouts[0].Ref() {
		t.Errorf("released %v, want %v", actor.released, rollouts[0].Ref())
	}
	if !strings.Contains(text(m), "released Flux Kustomization flux-system/apps") {
		t.Errorf("the status line does not say it:\n%s", text(m))
	}
}

// Opening a rollout reads its owner afresh: the detail is not up to ownersEvery old.
func TestOpeningARolloutReadsItsOwnerAfresh(t *testing.T) {
	m, fake := withOwners(t)
	m.ownersReading = false
	m = send(m, m.maybeReadOwners()())
	fake.asked = nil
	m, _ = run(m, press("down"))
	next, cmd := m.Update(press("enter"))
	m = next.(Model)
	if cmd == nil {
		t.Fatal("opening orders-api read nothing")
	}
	m = send(m, cmd())
	if len(fake.asked) != 1 || fake.asked[0].Name != "orders-api" {
		t.Errorf("asked %v, want orders-api only", fake.asked)
	}
	if _, ok := m.owners[ref.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: "payments-api"}]; !ok {
		t.Error("the fresh read of one owner dropped the others")
	}
}
