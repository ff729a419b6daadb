package rollout

import (
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// ConnState is how current a snapshot's picture of the cluster is.
type ConnState string

const (
	ConnSyncing      ConnState = "syncing"
	ConnLive         ConnState = "live"
	ConnReconnecting ConnState = "reconnecting"
	ConnForbidden    ConnState = "forbidden"
)

// Connection is the watch's connection state, as the footer and `status` show it.
type Connection struct {
	State ConnState
	// Since is when the state began (for "reconnecting 12s").
	Since time.Time
	// Message: for forbidden, what the API server refused; for reconnecting, the last error.
	Message safetext.Text
	// Hint, for forbidden, says what access the watch needs and what to do without it.
	Hint safetext.Text
}

// Snapshot is one immutable picture of the rollouts in scope.
type Snapshot struct {
	Rollouts []Rollout
	Conn     Connection
	// Synced: every informer has listed once: the whole picture. What decides (status
	// one-shot, guard, metrics rounds) waits for it.
	Synced bool
	// PodsSyncing: the rollouts and their ReplicaSets are read, the pods still streaming.
	// Rollouts then hold every rollout's row from its status, each ReadingPods, and no
	// phase from pod state (rollout.Objects.PodsSyncing); Synced is false.
	PodsSyncing bool
	// PodsRead is how many pods have been read so far while PodsSyncing (0 when the API
	// server does not say: a plain list arrives whole).
	PodsRead int
	At       time.Time
	// Clusters is each context's own state when several are in view (--contexts), in
	// their order; nil with one. Conn, Synced, PodsSyncing and PodsRead are then the
	// fleet's: Synced when every context is, Conn the worst of them (its message naming
	// the context).
	Clusters []ClusterState
}

// ClusterState is one context's part of a snapshot of several.
type ClusterState struct {
	Context     string
	Conn        Connection
	Synced      bool
	PodsSyncing bool
	PodsRead    int
	// Rollouts is how many of the snapshot's rollouts are this context's.
	Rollouts int
}

// EveryContextHasRows reports whether every context's rows are in the snapshot (with one
// context: HasRows): what an early answer (status --no-wait-pods) waits for.
func (s *Snapshot) EveryContextHasRows() bool {
	if len(s.Clusters) == 0 {
		return s.HasRows()
	}
	for _, c := range s.Clusters {
		if !c.HasRows() {
			return false
		}
	}
	return true
}

// HasRows reports whether the context's rollouts are all in the snapshot.
func (c ClusterState) HasRows() bool { return c.Synced || c.PodsSyncing }

// HasRows reports whether the snapshot's Rollouts are every rollout in scope (with or
// without their pods): what a screen may show as the list.
func (s *Snapshot) HasRows() bool { return s.Synced || s.PodsSyncing }
