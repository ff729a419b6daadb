package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
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
