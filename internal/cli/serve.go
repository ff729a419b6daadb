package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	gossh "golang.org/x/crypto/ssh"
	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/jumphost"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/app"
	"github.com/pyroll/kubectl-pyroll/ui/sshconsole"
)

// ServeOptions are `kubectl pyroll serve`'s.
type ServeOptions struct {
	ConsoleOptions
	Addr           string
	AuthorizedKeys string
	HostKey        string
	AuditLog       string
	Idle           time.Duration
	MaxSession     time.Duration
	MaxSessions    int
	AllowWrite     bool
	// DebugAddr serves jumphost.Stats (sessions, open API requests, heap) for tests and
	// measurements; hidden.
	DebugAddr string
}

const serveLong = `Serve the console over SSH from a jump host. On-call engineers type
'ssh -p 2222 jump.example.com' (or '... orders-api' to open that rollout) and get the
console: no kubeconfig, plugin or cluster credentials on their laptops.

Each key of --authorized-keys maps to a Kubernetes user, and every request of its
sessions impersonates that user (and groups): their RBAC decides what the console shows
and allows. The file is read again at every connection: deleting a line revokes its key
at once. One key a line, with pyroll's options before it:

  pyroll-user="alice@example.com",pyroll-groups="sre,oncall" ssh-ed25519 AAAAC3Nz... alice
  pyroll-user="bob@example.com",pyroll-write,from="10.0.0.0/8" ssh-ed25519 AAAAC3Nz... bob

  pyroll-user="..."    (required) the user the key's sessions impersonate
  pyroll-groups="a,b"  the groups they impersonate
  pyroll-write         the key may halt, promote and roll back, if the server runs with
                       --allow-write (the user's RBAC still decides); else read-only
  from="..."           the addresses the key may come from: addresses, CIDR blocks,
                       wildcards (10.1.*), !pattern to exclude (no DNS names)

A key without pyroll-user, or with an option serve does not know (command=, expiry-time=,
permitopen=, ...), is refused. Nothing but the console is served: no shell, no commands,
no sftp or scp, no port forwarding. A session closes after --idle without a key press and
after --max-session; each start, end and action is a JSON line in --audit-log (else on
stderr).

The server's own credentials (kubectl's flags: --kubeconfig, --context, -n, -A, -l) need
'impersonate' on those users and groups: the README's "Jump host" section has the
ClusterRole and a systemd unit. The host key (ed25519) is created if missing; its
fingerprint and the known_hosts line are printed at start.`

const serveExample = `  kubectl pyroll serve --ssh :2222 --authorized-keys /etc/pyroll/authorized_keys \
      --host-key /var/lib/pyroll/ssh_host_ed25519_key -n shop
  kubectl pyroll serve --ssh 10.0.0.5:2222 --authorized-keys keys --host-key host_key \
      --allow-write --audit-log /var/log/pyroll/audit.jsonl --idle 10m -A
  # then, on a laptop:
  ssh -p 2222 jump.example.com              # the console
  ssh -p 2222 jump.example.com orders-api   # straight to one rollout`

func newServeCommand(o *Options) *cobra.Command {
	s := &ServeOptions{ConsoleOptions: ConsoleOptions{Options: o}}
	cmd := &cobra.Command{
		Use:     "serve --ssh ADDR --authorized-keys FILE --host-key FILE",
		Short:   "Serve the console over SSH from a jump host, each key impersonating its Kubernetes user",
		Long:    serveLong,
		Example: serveExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE:    completeValidateRun(s),
	}
	s.ScopeOptions.AddFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&s.Addr, "ssh", "", "address to listen on for SSH, HOST:PORT (e.g. :2222)")
	f.StringVar(&s.AuthorizedKeys, "authorized-keys", "", "the keys allowed in, each with its pyroll-user (format above); read again at every connection")
	f.StringVar(&s.HostKey, "host-key", "", "the server's private host key; an ed25519 key is created there (mode 0600) if missing")
	f.StringVar(&s.AuditLog, "audit-log", "", "append the audit log (JSON lines: session start and end, every action) to this file (default: stderr)")
	f.DurationVar(&s.Idle, "idle", 15*time.Minute, "close a session this long after its last key press (0: never)")
	f.DurationVar(&s.MaxSession, "max-session", 12*time.Hour, "close a session this long after it started (0: never)")
	f.IntVar(&s.MaxSessions, "max-sessions", 16, "how many sessions may run at once")
	f.BoolVar(&s.AllowWrite, "allow-write", false, "let keys with pyroll-write halt, promote and roll back (the user's RBAC still decides); without it every session is read-only")
	f.StringVar(&s.DebugAddr, "debug-addr", "", "serve session and memory counts as JSON at http://ADDR/debug/pyroll (tests, measurements)")
	_ = f.MarkHidden("debug-addr")
	return cmd
}

// Validate rejects what cannot work, before anything is opened.
func (o *ServeOptions) Validate() error {
	switch {
	case o.Addr == "":
		return usageError("--ssh ADDR is required (e.g. --ssh :2222)")
	case o.AuthorizedKeys == "":
		return usageError("--authorized-keys FILE is required: one key a line with its pyroll-user=\"...\" (see --help)")
	case o.HostKey == "":
		return usageError("--host-key FILE is required (an ed25519 key is created there if missing)")
	case o.Idle < 0 || o.MaxSession < 0:
		return usageError("--idle and --max-session cannot be negative (0: no limit)")
	case o.MaxSessions < 1:
		return usageError("--max-sessions must be at least 1")
	case o.AllowWrite && o.ReadOnly:
		return usageError("--allow-write and --read-only contradict each other")
	}
	if ov := o.KubeFlags.Overrides.AuthInfo; ov.Impersonate != "" || len(ov.ImpersonateGroups) > 0 || ov.ImpersonateUID != "" || len(o.KubeFlags.UserExtras) > 0 {
		return usageError("serve impersonates each key's user itself: run it with credentials that may impersonate them, without --as/--as-group/--as-uid")
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return usageError("--ssh %q: want HOST:PORT, e.g. :2222 or 10.0.0.5:2222", o.Addr)
	}
	return o.ConsoleOptions.Validate()
}

// Run serves until SIGINT or SIGTERM: then the sessions are told and closed.
func (o *ServeOptions) Run(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kubectl pyroll serve stopped on an internal error: %v; please report it", r)
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	entries, err := o.readKeys()
	if err != nil {
		return err
	}
	auditOut, closeAudit, err := o.auditLog()
	if err != nil {
		return err
	}
	defer closeAudit()
	hostKey, created, err := jumphost.HostKey(o.HostKey)
	if err != nil {
		return err
	}
	servers, err := o.servedContexts(ctx)
	if err != nil {
		return err
	}
	for _, sv := range servers {
		if _, err := o.prometheus(sv.cluster); err != nil {
			return err
		}
		o.warnImpersonation(ctx, sv.cluster, entries)
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v; pick another --ssh address or stop what holds it", o.Addr, err)
	}
	addr := ln.Addr().String()
	open := &jumphost.OpenRequests{}
	server, err := jumphost.New(jumphost.Config{
		AuthorizedKeys: o.AuthorizedKeys, HostKey: hostKey,
		Idle: o.Idle, MaxSession: o.MaxSession, MaxSessions: o.MaxSessions, AllowWrite: o.AllowWrite,
		Console: sshconsole.Middleware(o.openSession(servers, open), o.sessionCrashed),
		Audit:   jumphost.NewAudit(auditOut, nil),
		Log:     o.ErrOut,
		Hint:    sshHint(addr),
	})
	if err != nil {
		ln.Close()
		return err
	}
	if o.DebugAddr != "" {
		debug := &http.Server{Addr: o.DebugAddr, Handler: jumphost.DebugHandler(server, open), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = debug.ListenAndServe() }()
		defer debug.Close()
	}
	o.printStart(addr, servers, hostKey, created)

	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(o.ErrOut, "kubectl pyroll serve: stopping; closing the sessions")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdown); err != nil {
		_ = server.Close()
	}
	return nil
}

// readKeys reads the authorized-keys file once at start, for the users to check (each
// connection reads it again). The lines it refuses are the server's to say (jumphost.New
// says each once, and again only when a line goes bad later).
func (o *ServeOptions) readKeys() ([]jumphost.Entry, error) {
	f, err := os.Open(o.AuthorizedKeys)
	if err != nil {
		return nil, fmt.Errorf("--authorized-keys: %v; create it with one key a line, each with its pyroll-user=\"...\" (see 'kubectl pyroll serve --help')", err)
	}
	defer f.Close()
	entries, _ := jumphost.ParseAuthorizedKeys(f)
	if len(entries) == 0 {
		fmt.Fprintf(o.ErrOut, "kubectl pyroll serve: %s has no usable key yet: every connection is refused until one is added\n", o.AuthorizedKeys)
	}
	return entries, nil
}

func (o *ServeOptions) auditLog() (io.Writer, func(), error) {
	if o.AuditLog == "" {
		return o.ErrOut, func() {}, nil
	}
	f, err := os.OpenFile(o.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--audit-log: %v; give a file in a directory this user may write to", err)
	}
	return f, func() { f.Close() }, nil
}

// warnImpersonation says at start which key's user or group the server may not
// impersonate (those sessions would see nothing but "forbidden").
func (o *ServeOptions) warnImpersonation(ctx context.Context, cluster *kube.Cluster, entries []jumphost.Entry) {
	asked := map[[2]string]bool{}
	for _, e := range entries {
		subjects := [][2]string{{"users", e.User}}
		for _, g := range e.Groups {
			subjects = append(subjects, [2]string{"groups", g})
		}
		for _, s := range subjects {
			if asked[s] {
				continue
			}
			asked[s] = true
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "impersonate", Resource: s[0], Name: s[1]}}}
			answer, err := cluster.Client.ReviewAccess(ctx, review)
			if err == nil && !answer.Status.Allowed {
				fmt.Fprintf(o.ErrOut, "kubectl pyroll serve: warning: these credentials may not impersonate %s %q (line %d of %s): its sessions will be refused by the API server; see the README's \"Jump host\" ClusterRole\n",
					strings.TrimSuffix(s[0], "s"), s[1], e.Line, o.AuthorizedKeys)
			}
		}
	}
}

func (o *ServeOptions) printStart(addr string, servers []fleetConnection, key gossh.Signer, created bool) {
	cluster := servers[0].cluster
	where := "namespace " + o.namespace(cluster)
	if o.AllNamespaces {
		where = "all namespaces"
	}
	contexts := "context " + cluster.Context
	if len(servers) > 1 {
		names := make([]string, len(servers))
		for i, sv := range servers {
			names[i] = sv.name
		}
		contexts = "contexts " + strings.Join(names, ", ")
		if !o.AllNamespaces && o.KubeFlags.Overrides.Context.Namespace == "" {
			where = "each context's namespace"
		}
	}
	writes := "read-only (no --allow-write)"
	if o.AllowWrite {
		writes = "keys with pyroll-write may act"
	}
	state := "read from"
	if created {
		state = "created in"
	}
	fmt.Fprintf(o.Out, "kubectl pyroll serve: listening on %s (%s, %s, %s)\n", addr, contexts, where, writes)
	fmt.Fprintf(o.Out, "host key %s %s: %s\n", state, o.HostKey, gossh.FingerprintSHA256(key.PublicKey()))
	fmt.Fprintf(o.Out, "known_hosts: %s\n", jumphost.KnownHostsLine(addr, key.PublicKey()))
}

// sshHint is what a user types to reach addr.
func sshHint(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "ssh HOST"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "HOST"
	}
	if port == "22" {
		return "ssh " + host
	}
	return "ssh -p " + port + " " + host
}

// servedContexts connects to the context, or to every one of --contexts: all must answer
// (a session's context that did not would be tried again with the server's own
// credentials, not the key's user's).
func (o *ServeOptions) servedContexts(ctx context.Context) ([]fleetConnection, error) {
	contexts, err := o.selectedContexts(&o.ScopeOptions)
	if err != nil {
		return nil, err
	}
	if contexts == nil {
		cluster, err := o.connect(ctx, connectTimeout)
		if err != nil {
			return nil, err
		}
		return []fleetConnection{{name: cluster.Context, cluster: cluster}}, nil
	}
	conns, err := o.connectFleet(ctx, contexts, connectTimeout)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		if c.err != nil {
			return nil, fmt.Errorf("serve cannot start: %w", c.err)
		}
	}
	return conns, nil
}

// openSession builds one session's console as the session's user: on the one cluster, or
// on each of --contexts, impersonating the user in every one.
func (o *ServeOptions) openSession(servers []fleetConnection, open *jumphost.OpenRequests) sshconsole.Open {
	return func(s *jumphost.Session) (app.Options, error) {
		session := consoleSession{
			env: s.Env, showUser: true, noFiles: true,
			readOnly: !s.Writable, readOnlyReason: s.ReadOnlyReason,
			wrapActor: func(a app.Actor) app.Actor { return auditedActor{Actor: a, session: s} },
		}
		if len(servers) > 1 {
			conns := make([]fleetConnection, len(servers))
			for i, sv := range servers {
				cluster, err := sv.cluster.Impersonating(s.Identity.User, s.Identity.Groups, open.Wrap)
				if err != nil {
					return app.Options{}, fmt.Errorf("context %s: %w", sv.name, err)
				}
				conns[i] = fleetConnection{name: sv.name, cluster: cluster}
			}
			session.open, session.user = s.Target, s.Identity.User
			opts, err := o.fleetConsole(s.Context, conns, session)
			opts.TestPanic = os.Getenv("PYROLL_TEST_PANIC")
			return opts, err
		}
		server := servers[0].cluster
		cluster, err := server.Impersonating(s.Identity.User, s.Identity.Groups, open.Wrap)
		if err != nil {
			return app.Options{}, err
		}
		target := s.Target
		if target.Name != "" && !o.AllNamespaces {
			target.Namespace = cluster.Namespace
		}
		session.open = target
		opts, err := o.console(s.Context, cluster, session)
		// The end-to-end tests' hook, as for the local console: set on the server only.
		opts.TestPanic = os.Getenv("PYROLL_TEST_PANIC")
		return opts, err
	}
}

// sessionCrashed keeps a session's panic on the server's side (its stack in a crash file,
// named in the server's log) and tells the session's user, in one line, where it is.
func (o *ServeOptions) sessionCrashed(s *jumphost.Session, crash *app.PanicError) string {
	where := "the console (" + crash.Where + ")"
	// The panic's value may quote the cluster's text: the log is read in a terminal too.
	fmt.Fprintf(o.ErrOut, "kubectl pyroll serve: session %s of %q: internal error in %s: %s; %s\n",
		s.ID, s.Identity.User, where, safetext.Line(fmt.Sprint(crash.Value)), crashHint(where, crash.Value, crash.Stack))
	return fmt.Sprintf("pyroll: the console stopped on an internal error (in %s); the jump host's log has the details for its operator, session %s", crash.Where, s.ID)
}

// auditedActor records every action a session applies, and every one it was refused, in
// the audit log.
type auditedActor struct {
	app.Actor
	session *jumphost.Session
}

func actionRecord(req intent.Request) jumphost.Record {
	return jumphost.Record{Verb: string(req.Action), Context: req.Target.Cluster, Kind: string(req.Target.Kind), Namespace: req.Target.Namespace, Name: req.Target.Name}
}

func (a auditedActor) Plan(ctx context.Context, req intent.Request) (intent.Plan, error) {
	plan, err := a.Actor.Plan(ctx, req)
	if refused := (*actions.RefusedError)(nil); errors.As(err, &refused) {
		a.Refused(ctx, req, refused.Reason)
	}
	return plan, err
}

func (a auditedActor) Apply(ctx context.Context, plan intent.Plan) (intent.Result, error) {
	result, err := a.Actor.Apply(ctx, plan)
	if refused := (*actions.RefusedError)(nil); errors.As(err, &refused) {
		a.Refused(ctx, plan.Request, refused.Reason)
		return result, err
	}
	rec := actionRecord(plan.Request)
	rec.FromRevision, rec.ToRevision, rec.Result = plan.From.Revision, plan.To.Revision, "ok"
	switch {
	case err != nil:
		rec.Result, rec.Error = "failed", err.Error()
	case result.Warning != "":
		rec.Error = result.Warning.String()
	}
	a.session.Action(rec)
	return result, err
}

// ReleaseHold gives a GitOps owner back, audited like an action.
func (a auditedActor) ReleaseHold(ctx context.Context, target ref.Rollout, reason string) (safetext.Text, error) {
	releaser, ok := a.Actor.(app.HoldReleaser)
	if !ok {
		return "", errors.New("release-hold is not available here")
	}
	req := intent.Request{Action: intent.ReleaseHold, Target: target, Reason: reason}
	msg, err := releaser.ReleaseHold(ctx, target, reason)
	if refused := (*actions.RefusedError)(nil); errors.As(err, &refused) {
		a.Refused(ctx, req, refused.Reason)
		return msg, err
	}
	rec := actionRecord(req)
	rec.Result = "ok"
	if err != nil {
		rec.Result, rec.Error = "failed", err.Error()
	}
	a.session.Action(rec)
	return msg, err
}

// Refused records an action the session was refused, by the console (its key greyed out,
// its permissions not answered yet) or by the actions service (read-only).
func (a auditedActor) Refused(_ context.Context, req intent.Request, reason string) {
	rec := actionRecord(req)
	rec.Error = reason
	a.session.Refused(rec)
}

// clipboardInspector is the inspector of a console served over SSH: x writes no file on
// the jump host (its disk is not the user's); the report goes to the user's clipboard.
type clipboardInspector struct{ inspector }

func (i clipboardInspector) Snapshot(ctx context.Context, r rollout.Rollout, report metrics.Report) (string, string, error) {
	evidence, err := incidentEvidence(ctx, i.cluster, r.Ref(), report, i.thresholds)
	if err != nil {
		return "", "", err
	}
	return "", incident.Markdown(evidence), nil
}
