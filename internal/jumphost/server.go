package jumphost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	"charm.land/wish/v2/ratelimiter"
	"charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Config is the server's.
type Config struct {
	// AuthorizedKeys is the file of keys with their pyroll-user (re-read on every attempt).
	AuthorizedKeys string
	HostKey        gossh.Signer
	// Idle closes a session this long after its last key press; MaxSession closes it this
	// long after it started. Zero is no limit.
	Idle, MaxSession time.Duration
	// MaxSessions caps the consoles running at once.
	MaxSessions int
	// AllowWrite lets keys with pyroll-write act (RBAC still decides); without it every
	// session is read-only.
	AllowWrite bool
	// Console runs one session's console (the innermost middleware): SessionOf gives it
	// the session's identity, terminal and context.
	Console wish.Middleware
	Audit   *Audit
	// Log is the server's own log (connections, panics); nil discards it.
	Log   io.Writer
	Clock clock.Clock
	// Hint is how a user reaches this server, for messages ("ssh -p 2222 jump.example.com").
	Hint string
}

// Server is the SSH server: every session is one console, nothing else.
type Server struct {
	cfg      Config
	srv      *ssh.Server
	log      *log.Logger
	sessions atomic.Int32
	mu       sync.Mutex
	slots    int
	// stopping closes when Shutdown starts: every session is told and closed.
	stopping chan struct{}
	stopOnce sync.Once
	// refusedKeys are the keys each connection (by remote address) offered in vain: a
	// client may offer several before one is let in, so a refusal is recorded only when
	// the connection fails to authenticate at all.
	refusedKeys map[string][]string
	// badLines are the lines of the authorized-keys file left out at its last reading:
	// each is said in the log once, when it first goes bad, not at every connection.
	badLines map[string]bool
}

// New builds the server (it listens with Serve).
func New(cfg Config) (*Server, error) {
	if cfg.Console == nil || cfg.Audit == nil || cfg.HostKey == nil {
		return nil, errors.New("jumphost: Console, Audit and HostKey are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Hint == "" {
		cfg.Hint = "ssh HOST"
	}
	s := &Server{cfg: cfg, log: log.New(cfg.Log, "pyroll serve: ", log.LstdFlags), stopping: make(chan struct{}), refusedKeys: map[string][]string{}}
	// Said now, at start, rather than at the first connection.
	if _, err := s.readKeys(); err != nil {
		return nil, err
	}
	opts := []ssh.Option{
		wish.WithPublicKeyAuth(s.authorize),
		// An unauthenticated connection gets half a minute; a connection whose console went
		// idle is closed by the console's own clock first (this one is reset by output).
		func(srv *ssh.Server) error {
			srv.HandshakeTimeout = 30 * time.Second
			if cfg.Idle > 0 {
				srv.IdleTimeout = cfg.Idle + time.Minute
			}
			if cfg.MaxSession > 0 {
				srv.MaxTimeout = cfg.MaxSession + time.Minute
			}
			srv.AddHostKey(cfg.HostKey)
			srv.Version = "kubectl-pyroll"
			// Nothing but sessions: forwarding is refused with a reason the client prints.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{
				"session": ssh.DefaultSessionHandler,
				"default": s.refuseChannel,
			}
			srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{"default": s.refuseSubsystem}
			srv.RequestHandlers = map[string]ssh.RequestHandler{"default": s.refuseRequest}
			srv.ConnectionFailedCallback = s.connectionFailed
			srv.ConnectionCloseCallback = func(conn net.Conn) { s.takeRefusedKeys(addrString(conn.RemoteAddr())) }
			return nil
		},
		wish.WithMiddleware(
			// The last listed runs first: every session channel gets a context and an id
			// of its own and is logged (channel.go), then rate-limited per address; inside the recover, the gate (identity, command, limits, clocks,
			// audit) runs before activeterm (a terminal, for sure) and the console.
			recover.MiddlewareWithLogger(s.log, cfg.Console, activeterm.Middleware(), s.gate),
			ratelimiter.Middleware(ratelimiter.NewRateLimiter(rate.Every(time.Second), 20, 1024)),
			s.channels,
		),
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, closes every session (each says why) and waits for the
// connections to end, until ctx does.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopping) })
	return s.srv.Shutdown(ctx)
}

// Close ends every connection now.
func (s *Server) Close() error { return s.srv.Close() }

// Sessions is how many consoles run now.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// authorize lets in a key that a usable line of the authorized-keys file names. Which
// key a connection finally used is read again in the gate (sess.PublicKey()), so that a key
// merely offered cannot lend its identity to another.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	_, err := s.lookup(key, ctx.RemoteAddr())
	if err == nil {
		return true
	}
	why := err.Error()
	if errors.Is(err, ErrUnknownKey) {
		why = "unknown key"
	}
	remote := addrString(ctx.RemoteAddr())
	s.mu.Lock()
	s.refusedKeys[remote] = append(s.refusedKeys[remote], gossh.FingerprintSHA256(key)+" "+why)
	s.mu.Unlock()
	return false
}

// lookup is Lookup on the file read now.
func (s *Server) lookup(key ssh.PublicKey, remote net.Addr) (Identity, error) {
	entries, err := s.readKeys()
	if err != nil {
		return Identity{}, err
	}
	return lookup(entries, key, remote)
}

// readKeys reads the authorized-keys file and says in the log each line it leaves out
// that was not left out at the last reading (which line, why).
func (s *Server) readKeys() ([]Entry, error) {
	entries, errs, err := readAuthorizedKeys(s.cfg.AuthorizedKeys)
	if err != nil {
		return nil, err
	}
	bad := make(map[string]bool, len(errs))
	for _, e := range errs {
		bad[e.Error()] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range errs {
		if why := e.Error(); !s.badLines[why] {
			s.log.Printf("%s: %s (that key is refused)", safetext.Line(s.cfg.AuthorizedKeys), safetext.Line(why))
		}
	}
	s.badLines = bad
	return entries, nil
}

func (s *Server) takeRefusedKeys(remote string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.refusedKeys[remote]
	delete(s.refusedKeys, remote)
	return keys
}

// connectionFailed records a connection that offered keys and got in with none.
func (s *Server) connectionFailed(conn net.Conn, _ error) {
	refused := s.takeRefusedKeys(addrString(conn.RemoteAddr()))
	if len(refused) == 0 {
		return // no key offered: a port scan, a client without keys, a broken handshake
	}
	fingerprint, why, _ := strings.Cut(refused[len(refused)-1], " ")
	if len(refused) > 1 {
		why = "no authorized key among those offered: " + strings.Join(refused, "; ")
	}
	s.cfg.Audit.Write(Record{Event: "refused", Fingerprint: fingerprint, Remote: addrString(conn.RemoteAddr()), Reason: why})
}

type sessionKey struct{}

// SessionOf is the session the gate admitted, for the console; nil outside one.
func SessionOf(sess ssh.Session) *Session {
	v, _ := sess.Context().Value(sessionKey{}).(*Session)
	return v
}

// Session is one admitted console session.
type Session struct {
	// ID is the connection's id and the session channel's number on it (3f1c0a9e5b7d2c41.2
	// is the second session of a connection, as OpenSSH's ControlMaster opens them).
	ID       string
	Identity Identity
	// Writable: the key has pyroll-write and the server runs with --allow-write. The
	// user's RBAC still decides; ReadOnlyReason says why not, when not.
	Writable       bool
	ReadOnlyReason string
	// Target is the rollout the command line named (ssh HOST NAME); Name "" for the list.
	Target ref.Rollout
	// Term is the client's terminal: its size (untrusted, clamped by the console) and
	// environment (TERM from the pty request, and what the client sent: NO_COLOR, ...).
	Width, Height int
	Env           []string
	// Context ends with the session: quit, dropped connection, or a limit passed.
	Context   context.Context
	Deadlines *Deadlines
	audit     *Audit
	base      Record

	refusalsMu sync.Mutex
	refusals   map[string]time.Time // when each refusal was last recorded
}

// NewSession is a session recorded in audit that no gate admitted: for the console's own
// tests of what a session records (the gate makes every real one).
func NewSession(audit *Audit, id string, identity Identity) *Session {
	return &Session{ID: id, Identity: identity, Context: context.Background(), audit: audit}
}

// Action records one action of this session in the audit log.
func (s *Session) Action(r Record) {
	r.Event, r.Session, r.Fingerprint, r.User, r.Groups = "action", s.ID, s.Identity.Fingerprint, s.Identity.User, s.Identity.Groups
	s.audit.Write(r)
}

// refusalRepeat is how long the same refusal (verb, rollout, reason) of one session is
// recorded once: a key held down, or `yes h | ssh`, must not flood the audit log.
const refusalRepeat = time.Minute

// Refused records an action this session was refused (Result "refused", Error the reason),
// the same refusal at most once a minute.
func (s *Session) Refused(r Record) {
	key := strings.Join([]string{r.Verb, r.Context, r.Kind, r.Namespace, r.Name, r.Error}, "\x00")
	now := s.audit.now()
	s.refusalsMu.Lock()
	if last, seen := s.refusals[key]; seen && now.Sub(last) < refusalRepeat {
		s.refusalsMu.Unlock()
		return
	}
	if s.refusals == nil {
		s.refusals = map[string]time.Time{}
	}
	s.refusals[key] = now
	s.refusalsMu.Unlock()
	r.Result = "refused"
	s.Action(r)
}

// gate admits a session: the key's identity read now, a terminal, at most a rollout name
// as command, a free slot. It records the start and the end, and ends the session when
// a limit passes.
func (s *Server) gate(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		ctx := sess.Context()
		base := Record{Session: channelID(sess), Remote: addrString(sess.RemoteAddr()), ClientVersion: ctx.ClientVersion(), Command: sess.RawCommand()}
		refuse := func(rec Record, msg string) {
			rec.Event, rec.Reason = "refused", msg
			s.cfg.Audit.Write(rec)
			noteEnd(sess, rec)
			wish.Fatalf(sess, "pyroll: %s\r\n", msg)
		}
		if sess.PublicKey() == nil {
			refuse(base, "only public keys are accepted")
			return
		}
		id, err := s.lookup(sess.PublicKey(), sess.RemoteAddr())
		base.Fingerprint = gossh.FingerprintSHA256(sess.PublicKey())
		if err != nil {
			refuse(base, "this key is not (or no longer) authorized here")
			return
		}
		base.User, base.Groups = id.User, id.Groups
		pty, _, hasPty := sess.Pty()
		args := sess.Command()
		switch {
		case !hasPty && len(args) > 0:
			refuse(base, fmt.Sprintf("this host runs the rollout console only, not commands (%q refused): %s [ROLLOUT]", sess.RawCommand(), s.cfg.Hint))
			return
		case !hasPty:
			refuse(base, "the console needs a terminal: connect without -T ("+s.cfg.Hint+" [ROLLOUT])")
			return
		}
		target, err := parseTarget(args)
		if err != nil {
			refuse(base, fmt.Sprintf("%v: %s [ROLLOUT]", err, s.cfg.Hint))
			return
		}
		if !s.takeSlot() {
			refuse(base, fmt.Sprintf("the jump host is full (%d sessions, --max-sessions); try again later", s.cfg.MaxSessions))
			return
		}
		defer s.freeSlot()

		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		session := &Session{
			ID: base.Session, Identity: id, Target: target,
			Width: pty.Window.Width, Height: pty.Window.Height,
			Env:       append(sess.Environ(), "TERM="+pty.Term),
			Context:   sctx,
			Deadlines: NewDeadlines(s.cfg.Clock, s.cfg.Idle, s.cfg.MaxSession),
			audit:     s.cfg.Audit, base: base,
		}
		switch {
		case !id.Write:
			session.ReadOnlyReason = "read-only: this key has no pyroll-write"
		case !s.cfg.AllowWrite:
			session.ReadOnlyReason = "read-only: the jump host runs without --allow-write"
		default:
			session.Writable = true
		}
		ctx.SetValue(sessionKey{}, session)
		start := s.cfg.Clock.Now()
		rec := base
		rec.Event, rec.Write = "start", session.Writable
		s.cfg.Audit.Write(rec)

		var why atomic.Value
		go func() {
			if reason := session.Deadlines.Wait(sctx); reason != "" {
				why.CompareAndSwap(nil, reason)
				cancel()
			}
		}()
		go func() {
			select {
			case <-s.stopping:
				why.CompareAndSwap(nil, "closed: the jump host is shutting down")
				cancel()
			case <-sctx.Done():
			}
		}()
		next(sess)
		cancel()

		end := base
		end.Event, end.Duration = "end", s.cfg.Clock.Since(start).Round(time.Second).String()
		switch reason, _ := why.Load().(string); {
		case reason != "":
			end.Reason = reason
			_, _ = fmt.Fprintf(sess, "\r\npyroll: %s\r\n", reason)
		case ctx.Err() != nil:
			end.Reason = "connection closed"
		default:
			end.Reason = "quit"
		}
		s.cfg.Audit.Write(end)
		noteEnd(sess, end)
	}
}

// parseTarget reads the command line: nothing (the list) or one rollout, NAME or
// KIND/NAME, whose NAME is a Kubernetes object name.
func parseTarget(args []string) (ref.Rollout, error) {
	switch len(args) {
	case 0:
		return ref.Rollout{}, nil
	case 1:
	default:
		return ref.Rollout{}, fmt.Errorf("%q: give at most one rollout name", strings.Join(args, " "))
	}
	kind, name, err := ref.ParseArg(args[0])
	if err != nil {
		return ref.Rollout{}, err
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return ref.Rollout{}, fmt.Errorf("%q is not a rollout name (%s)", args[0], errs[0])
	}
	return ref.Rollout{Kind: kind, Name: name}, nil
}

func (s *Server) takeSlot() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxSessions > 0 && s.slots >= s.cfg.MaxSessions {
		return false
	}
	s.slots++
	s.sessions.Store(int32(s.slots))
	return true
}

func (s *Server) freeSlot() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slots--
	s.sessions.Store(int32(s.slots))
}

// refuseSubsystem answers sftp, scp's sftp mode and any other subsystem.
func (s *Server) refuseSubsystem(sess ssh.Session) {
	s.cfg.Audit.Write(Record{Event: "refused", Session: channelID(sess), Remote: addrString(sess.RemoteAddr()),
		Fingerprint: fingerprint(sess.PublicKey()), Command: "subsystem " + sess.Subsystem(), Reason: "subsystem refused"})
	wish.Fatalf(sess, "pyroll: subsystem %q refused: this host runs the rollout console only (%s [ROLLOUT])\n", sess.Subsystem(), s.cfg.Hint)
}

// refuseChannel answers port forwarding (direct-tcpip) and any other channel but a session.
func (s *Server) refuseChannel(_ *ssh.Server, _ *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
	s.cfg.Audit.Write(Record{Event: "refused", Session: shortID(ctx.SessionID()), Remote: addrString(ctx.RemoteAddr()),
		Command: "channel " + ch.ChannelType(), Reason: "forwarding refused"})
	_ = ch.Reject(gossh.Prohibited, "kubectl pyroll serve: "+ch.ChannelType()+" refused: this host runs the rollout console only, no forwarding")
}

// refuseRequest answers global requests: remote forwarding (tcpip-forward) and the rest.
func (s *Server) refuseRequest(ctx ssh.Context, _ *ssh.Server, req *gossh.Request) (bool, []byte) {
	if req.Type == "tcpip-forward" {
		s.cfg.Audit.Write(Record{Event: "refused", Session: shortID(ctx.SessionID()), Remote: addrString(ctx.RemoteAddr()),
			Command: req.Type, Reason: "forwarding refused"})
	}
	return false, nil
}

func shortID(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func fingerprint(k ssh.PublicKey) string {
	if k == nil {
		return ""
	}
	return gossh.FingerprintSHA256(k)
}
