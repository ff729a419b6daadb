package jumphost

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// A connection may carry several session channels (OpenSSH's ControlMaster opens each
// `ssh host` as one more channel on the master's connection), and they all share the
// connection's ssh.Context: a value one session sets there is every session's. So each
// session channel gets a context of its own (channelContext), which the gate's Session
// record lives in, and an id of its own: the connection's id and the channel's number on
// it (3f1c0a9e5b7d2c41.1, .2, ...), which the audit log, the server's log and a crash
// report name.

type (
	channelCountKey struct{} // in the connection's context: how many session channels so far
	channelIDKey    struct{} // in a channel's context: its id
)

// channels is the outermost middleware: every session channel from then on is a
// channelSession, with its own context and id. It is the server's log of sessions too (in
// place of wish's logging middleware, which printed the client's user name, TERM and
// command as they came): one line when a session channel opens, one when it ends, every
// string the client chose made safe (internal/safetext) and quoted.
func (s *Server) channels(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		c := newChannelSession(sess)
		start := s.cfg.Clock.Now()
		pty, _, _ := sess.Pty()
		s.log.Printf("session %s from %s: open: key %s, ssh user %s, command %s, term %s %dx%d, client %s",
			c.id, addrString(sess.RemoteAddr()), orNone(fingerprint(sess.PublicKey())), quoted(sess.User()), quoted(sess.RawCommand()),
			quoted(pty.Term), pty.Window.Width, pty.Window.Height, quoted(c.ctx.ClientVersion()))
		next(c)
		exit, rec := c.outcome()
		who := "no user"
		if rec.User != "" {
			who = "user " + quoted(rec.User)
			if len(rec.Groups) > 0 {
				who += " groups " + quoted(strings.Join(rec.Groups, ","))
			}
		}
		how := rec.Reason
		switch {
		case rec.Event == "refused":
			how = "refused: " + how
		case rec.Event == "":
			how = "stopped before the gate (rate limit, or a panic the log says above)"
		}
		s.log.Printf("session %s from %s: end after %s, exit %d, %s: %s",
			c.id, addrString(sess.RemoteAddr()), s.cfg.Clock.Since(start).Round(time.Millisecond), exit, who, safetext.Line(how))
	}
}

// maxField bounds one client-chosen string in the server's log.
const maxField = 256

// quoted is a string a client chose, as the server's log shows it: made safe (no escape
// sequence, control or invisible character; at most maxField runes) and in quotes.
func quoted(s string) string {
	return `"` + strings.ReplaceAll(safetext.LineN(s, maxField).String(), `"`, `\"`) + `"`
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// channelSession is a session channel with a context of its own, and what came of it.
type channelSession struct {
	ssh.Session
	ctx *channelContext
	id  string

	mu   sync.Mutex
	exit int
	// end is the gate's last audit record of the session ("end" or "refused").
	end Record
}

func newChannelSession(sess ssh.Session) *channelSession {
	c := &channelSession{Session: sess, id: nextChannelID(sess.Context())}
	c.ctx = &channelContext{Context: sess.Context(), values: map[any]any{channelIDKey{}: c.id}}
	c.ctx.values[ssh.ContextKeySession] = c
	return c
}

// Exit records the status the client is sent (0 when no handler sends one: the server
// does, once the handlers return).
func (c *channelSession) Exit(code int) error {
	c.mu.Lock()
	c.exit = code
	c.mu.Unlock()
	return c.Session.Exit(code)
}

func (c *channelSession) outcome() (int, Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exit, c.end
}

// noteEnd records the audit record that ends sess ("end" or "refused": who, why) for the
// server's log.
func noteEnd(sess ssh.Session, rec Record) {
	if c, ok := sess.Context().Value(ssh.ContextKeySession).(*channelSession); ok {
		c.mu.Lock()
		c.end = rec
		c.mu.Unlock()
	}
}

// Context is the channel's context: the connection's, with the channel's own values.
func (c *channelSession) Context() ssh.Context { return c.ctx }

// channelContext is the connection's context (its cancellation, lock and metadata) with
// values of one channel's own: what SetValue writes stays in this channel.
type channelContext struct {
	ssh.Context
	mu     sync.Mutex
	values map[any]any
}

func (c *channelContext) Value(key any) any {
	c.mu.Lock()
	v, ok := c.values[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	return c.Context.Value(key)
}

func (c *channelContext) SetValue(key, value any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.values[key] = value
}

// nextChannelID numbers one more session channel of the connection whose context is ctx.
func nextChannelID(ctx ssh.Context) string {
	ctx.Lock()
	defer ctx.Unlock()
	n, _ := ctx.Value(channelCountKey{}).(int)
	n++
	ctx.SetValue(channelCountKey{}, n)
	return shortID(ctx.SessionID()) + "." + strconv.Itoa(n)
}

// channelID is the id of sess's channel (numbered now if no middleware did: a subsystem).
func channelID(sess ssh.Session) string {
	if id, ok := sess.Context().Value(channelIDKey{}).(string); ok {
		return id
	}
	return nextChannelID(sess.Context())
}
