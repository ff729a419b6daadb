package app

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// OwnerReader reads the GitOps owner (Argo CD, Flux, Helm) of a rollout: one GET of the
// owner object, cached (internal/kube's OwnerReader). It is called from commands only.
type OwnerReader interface {
	ReadFor(ctx context.Context, target ref.Rollout, d owner.Detection) owner.View
}

// ownersEvery is how often the owners in view are read again: a policy changed by a
// person (auto-sync turned back on, a Kustomization resumed) shows within this long; the
// detail and every confirmation read their rollout's owner afresh.
const ownersEvery = 15 * time.Second

// ownersMsg is what the owners of the rollouts in view were read to be; a partial one
// (the detail's rollout, read afresh when opened) updates only the views it holds.
type ownersMsg struct {
	views   map[ref.Rollout]owner.View
	partial bool
}

// ownersTimeout bounds one read of every owner in view.
const ownersTimeout = 20 * time.Second

// readOwners reads the owner of each rollout that names one. Owners are cached by object
// (one Kustomization owns many Deployments): a GET per owner object, not per rollout.
func readOwners(reader OwnerReader, targets map[ref.Rollout]owner.Detection) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), ownersTimeout)
		defer cancel()
		views := make(map[ref.Rollout]owner.View, len(targets))
		for target, d := range targets {
			views[target] = reader.ReadFor(ctx, target, d)
		}
		return ownersMsg{views: views}
	}
}

// ownerTargets are the rollouts in view that name an owner.
func ownerTargets(rollouts []rollout.Rollout) map[ref.Rollout]owner.Detection {
	var targets map[ref.Rollout]owner.Detection
	for _, r := range rollouts {
		if r.Owner == nil {
			continue
		}
		if targets == nil {
			targets = map[ref.Rollout]owner.Detection{}
		}
		targets[r.Ref()] = *r.Owner
	}
	return targets
}

// maybeReadOwners starts a read of the owners in view when none is under way and the last
// one is older than ownersEvery, or a rollout names an owner not read yet.
func (m *Model) maybeReadOwners() tea.Cmd {
	if m.opts.Owners == nil || m.ownersReading {
		return nil
	}
	targets := ownerTargets(m.snap.Rollouts)
	if len(targets) == 0 {
		return nil
	}
	due := m.now.Sub(m.ownersAt) >= ownersEvery
	for target := range targets {
		if _, ok := m.owners[target]; !ok {
			due = true
		}
	}
	if !due {
		return nil
	}
	m.ownersReading, m.ownersAt = true, m.now
	return readOwners(m.opts.Owners, targets)
}

// readOwnerOf reads the owner of r afresh (the detail just opened on it): what the person
// reads before pressing r is not up to ownersEvery old.
func (m Model) readOwnerOf(r rollout.Rollout) tea.Cmd {
	if m.opts.Owners == nil || r.Owner == nil {
		return nil
	}
	reader, target, d := m.opts.Owners, r.Ref(), *r.Owner
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), ownersTimeout)
		defer cancel()
		return ownersMsg{views: map[ref.Rollout]owner.View{target: reader.ReadFor(ctx, target, d)}, partial: true}
	}
}

func (m Model) handleOwnersMsg(msg ownersMsg) (Model, tea.Cmd) {
	if msg.partial {
		owners := make(map[ref.Rollout]owner.View, len(m.owners)+len(msg.views))
		for k, v := range m.owners {
			owners[k] = v
		}
		for k, v := range msg.views {
			owners[k] = v
		}
		m.owners = owners
		m.list.SetOwners(m.owners)
		m.showOwner()
		return m, nil
	}
	m.ownersReading = false
	m.owners = msg.views
	m.list.SetOwners(m.owners)
	m.showOwner()
	return m, nil
}

// showOwner hands the detail its rollout's owner as last read.
func (m *Model) showOwner() {
	shown := m.detail.Rollout()
	if v, ok := m.owners[shown.Ref()]; ok {
		m.detail.SetOwner(&v)
		return
	}
	m.detail.SetOwner(nil)
}
