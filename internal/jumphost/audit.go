package jumphost

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Record is one line of the audit log. Event is "start", "end", "refused" (a session
// that did not start: unknown key, bad command, server full) or "action".
type Record struct {
	Time          time.Time `json:"time"`
	Event         string    `json:"event"`
	Session       string    `json:"session,omitempty"`
	Fingerprint   string    `json:"keyFingerprint,omitempty"`
	User          string    `json:"user,omitempty"`
	Groups        []string  `json:"groups,omitempty"`
	Remote        string    `json:"remoteAddress,omitempty"`
	ClientVersion string    `json:"clientVersion,omitempty"`
	Command       string    `json:"command,omitempty"`
	Write         bool      `json:"write,omitempty"`
	// End: why the session ended and how long it lasted.
	Reason   string `json:"reason,omitempty"`
	Duration string `json:"duration,omitempty"`
	// Action: what was asked, on what, between which revisions, and what came of it.
	Verb string `json:"verb,omitempty"`
	// Context is the kubeconfig context acted in when the server serves several.
	Context      string `json:"context,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Namespace    string `json:"namespace,omitempty"`
	Name         string `json:"name,omitempty"`
	FromRevision int64  `json:"fromRevision,omitempty"`
	ToRevision   int64  `json:"toRevision,omitempty"`
	Result       string `json:"result,omitempty"`
	Error        string `json:"error,omitempty"`
}

// Audit writes one JSON line per record, whole lines only, from any goroutine.
type Audit struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

// NewAudit writes to out (the --audit-log file, else stderr).
func NewAudit(out io.Writer, now func() time.Time) *Audit {
	if now == nil {
		now = time.Now
	}
	return &Audit{out: out, now: now}
}

// Write stamps r with the time (when unset) and writes it.
func (a *Audit) Write(r Record) {
	if r.Time.IsZero() {
		r.Time = a.now().UTC()
	}
	line, err := json.Marshal(r)
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, _ = a.out.Write(append(line, '\n'))
}
