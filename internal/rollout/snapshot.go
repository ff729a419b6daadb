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
	// Synced: every informer has listed once; before that Rollouts may be incomplete.
	Synced bool
	At     time.Time
}
