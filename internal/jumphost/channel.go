package jumphost

import (
	"strconv"
	"sync"

	"charm.land/ssh"
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
// channelSession, with its own context and id.
func (s *Server) channels(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		next(newChannelSession(sess))
	}
}

// channelSession is a session channel with a context of its own.
type channelSession struct {
	ssh.Session
	ctx *channelContext
}

func newChannelSession(sess ssh.Session) *channelSession {
	c := &channelSession{Session: sess}
	c.ctx = &channelContext{Context: sess.Context(), values: map[any]any{
		channelIDKey{}: nextChannelID(sess.Context()),
	}}
	c.ctx.values[ssh.ContextKeySession] = c
	return c
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
