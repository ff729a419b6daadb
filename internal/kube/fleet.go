package kube

import (
	"context"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// FleetMember is one context's stream of snapshots (its own watcher), among several.
type FleetMember struct {
	Context   string
	Snapshots <-chan rollout.Snapshot
}

// MergeSnapshots turns the snapshots of several contexts into one stream: each context's
// latest rollouts (tagged with their context: ref.Rollout.Cluster), its own state in
// Snapshot.Clusters, the fleet's state on top (Synced when every context is; Conn the
// worst). A context shows as soon as it has rows, without waiting for the slowest; one
// that never answers holds back only Synced. Changes that arrive while the last merged
// snapshot waits for its reader are folded into the next. The channel closes when ctx
// ends or every member's channel has closed.
func MergeSnapshots(ctx context.Context, members []FleetMember) <-chan rollout.Snapshot {
	type update struct {
		member int
		snap   rollout.Snapshot
		closed bool
	}
	updates := make(chan update)
	for i, m := range members {
		go func() {
			for snap := range m.Snapshots {
				select {
				case updates <- update{member: i, snap: snap}:
				case <-ctx.Done():
					return
				}
			}
			select {
			case updates <- update{member: i, closed: true}:
			case <-ctx.Done():
			}
		}()
	}
	out := make(chan rollout.Snapshot, 1)
	go func() {
		defer close(out)
		latest := make([]*rollout.Snapshot, len(members))
		open := len(members)
		apply := func(u update) {
			if u.closed {
				open--
				return
			}
			latest[u.member] = &u.snap
		}
		for open > 0 {
			select {
			case u := <-updates:
				apply(u)
			case <-ctx.Done():
				return
			}
			if open == 0 {
				return
			}
			// Fold in whatever else is already waiting, then offer the merge; a newer
			// change while the reader is busy replaces it.
			merged := mergeFleet(members, latest)
			for sent := false; !sent && open > 0; {
				select {
				case out <- merged:
					sent = true
				case u := <-updates:
					apply(u)
					merged = mergeFleet(members, latest)
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// mergeFleet is one merged snapshot of the members' latest (nil: nothing yet).
func mergeFleet(members []FleetMember, latest []*rollout.Snapshot) rollout.Snapshot {
	merged := rollout.Snapshot{Synced: true, Conn: rollout.Connection{State: rollout.ConnLive}}
	worst, anyRows := -1, false
	for i, m := range members {
		state := rollout.ClusterState{Context: m.Context, Conn: rollout.Connection{State: rollout.ConnSyncing}}
		snap := latest[i]
		if snap != nil {
			state.Conn, state.Synced, state.PodsSyncing, state.PodsRead = snap.Conn, snap.Synced, snap.PodsSyncing, snap.PodsRead
			if snap.At.After(merged.At) {
				merged.At = snap.At
			}
			if snap.HasRows() {
				for _, r := range snap.Rollouts {
					r.Cluster = m.Context
					merged.Rollouts = append(merged.Rollouts, r)
				}
				state.Rollouts = len(snap.Rollouts)
			}
		}
		merged.Synced = merged.Synced && state.Synced
		merged.PodsRead += state.PodsRead
		anyRows = anyRows || state.HasRows()
		if connRank(state.Conn.State) > connRank(merged.Conn.State) {
			merged.Conn, worst = state.Conn, i
		}
		merged.Clusters = append(merged.Clusters, state)
	}
	if worst >= 0 && merged.Conn.Message != "" {
		merged.Conn.Message = safetext.Sprintf("context %s: ", members[worst].Context) + merged.Conn.Message
	}
	// The fleet shows rows as soon as any context has them; those still without rows
	// say so in Clusters.
	merged.PodsSyncing = !merged.Synced && anyRows
	rollout.Sort(merged.Rollouts)
	return merged
}

// connRank orders the connection states from best to worst, for the fleet's one state.
func connRank(s rollout.ConnState) int {
	switch s {
	case rollout.ConnLive:
		return 0
	case rollout.ConnSyncing:
		return 1
	case rollout.ConnReconnecting:
		return 2
	default: // forbidden
		return 3
	}
}
