package cli

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/ui/app"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// ConsoleOptions are the console's (the root command's).
type ConsoleOptions struct {
	*Options
	ScopeOptions
	AutoHalt      bool
	AutoHaltAfter int
	// AutoAction is what --auto-halt does to a breaching rollout: halt (a release in its
	// bake window, which completed, is then only shown in BREACH), or rollback.
	AutoAction string
}

// Validate rejects flag combinations that cannot work, before anything is started.
func (o *ConsoleOptions) Validate() error {
	if err := o.ScopeOptions.Validate(); err != nil {
		return err
	}
	if o.AutoHalt && !o.hasPrometheus() {
		return usageError("--auto-halt needs error rates: give --prometheus-url, --prometheus-service or a config file that names Prometheus")
	}
	switch guard.Act(o.AutoAction) {
	case "", guard.ActHalt, guard.ActRollback:
	default:
		return usageError("--auto-action must be halt or rollback, not %q", o.AutoAction)
	}
	if o.AutoHalt && o.ReadOnly {
		return usageError("--auto-halt and --read-only contradict each other")
	}
	return nil
}

// Run authenticates, starts the watcher and runs the console until the user quits.
func (o *ConsoleOptions) Run(ctx context.Context) error {
	if !isTerminal(o.Out) || !isTerminal(o.In) {
		return errors.New("the console needs a terminal; in scripts use 'kubectl pyroll status' (see --help)")
	}
	contexts, err := o.selectedContexts(&o.ScopeOptions)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var opts app.Options
	if contexts != nil {
		conns, err := o.connectFleet(ctx, contexts, connectTimeout)
		if err != nil {
			return err
		}
		session := consoleSession{env: os.Environ()}
		if o.target.Name != "" {
			session.open = o.target // opened in whichever context has it first
		}
		if opts, err = o.fleetConsole(ctx, conns, session); err != nil {
			return err
		}
	} else {
		cluster, err := o.connect(ctx, connectTimeout)
		if err != nil {
			return err
		}
		if opts, err = o.console(ctx, cluster, consoleSession{open: o.named(cluster), env: os.Environ()}); err != nil {
			return err
		}
	}
	// A hook for the end-to-end tests of the terminal's restoration after a panic.
	opts.TestPanic = os.Getenv("PYROLL_TEST_PANIC")
	return consoleError(app.Run(ctx, opts, o.In, o.Out))
}

// consoleSession is what differs between the console on this terminal and one served
// over SSH (serve), whose user, rights and terminal come from the session.
type consoleSession struct {
	// open is the rollout to open (NAME).
	open ref.Rollout
	// env is the terminal's environment (NO_COLOR): this process's, or the SSH client's.
	env []string
	// readOnly and readOnlyReason: a session whose key may not act.
	readOnly       bool
	readOnlyReason string
	// showUser names the user in the header (each SSH session is someone else); user is
	// who the session is, for a console over several contexts (one asks each cluster).
	showUser bool
	user     string
	// wrapActor wraps the actions (serve's audit log); nil: as they are.
	wrapActor func(app.Actor) app.Actor
	// noFiles: x copies the snapshot to the clipboard only, writing no file (on a jump
	// host, the server's disk is not the user's).
	noFiles bool
}

// console wires one console on cluster: the watcher on the scope, the actions (with the
// access checks), the metrics poller and the inspector, all ending with ctx. The local
// console and every SSH session of serve are built here.
func (o *ConsoleOptions) console(ctx context.Context, cluster *kube.Cluster, s consoleSession) (app.Options, error) {
	parts, err := o.contextParts(ctx, cluster, s)
	if err != nil {
		return app.Options{}, err
	}
	opts := o.appOptions(s)
	opts.Context, opts.Namespace = cluster.Context, o.namespace(cluster)
	opts.Snapshots = o.watch(ctx, cluster, o.NotReadyGrace, o.BakeTime)
	opts.Actor, opts.Inspector, opts.Owners = s.wrapped(parts.actor), parts.inspector, parts.owners
	if parts.poller != nil {
		opts.Metrics = parts.poller
	}
	if s.showUser {
		opts.User = parts.user
	}
	return opts, nil
}

// appOptions are the console's options that do not depend on the cluster.
func (o *ConsoleOptions) appOptions(s consoleSession) app.Options {
	return app.Options{
		Styles: styles.New(styles.Options{Color: o.colorEnabled(s.env), ASCII: o.ASCII}),
		Open:   s.open,
		Now:    time.Now(),

		AutoHalt:      o.AutoHalt,
		AutoHaltAfter: o.AutoHaltAfter,
		AutoAction:    guard.Act(o.AutoAction),
		Thresholds:    o.Config.Thresholds,
	}
}

// consoleParts are what a console reads and acts through on one cluster.
type consoleParts struct {
	user      string
	owners    *kube.OwnerReader
	actor     app.Actor // unwrapped: the session's wrapper goes around the whole console's
	inspector app.Inspector
	poller    *metrics.Poller // nil without Prometheus; running
}

// contextParts starts what the console needs of cluster besides its watcher: the user it
// acts as, the owner reader, the actions, the inspector and the metrics poller (running
// until ctx ends).
func (o *ConsoleOptions) contextParts(ctx context.Context, cluster *kube.Cluster, s consoleSession) (consoleParts, error) {
	client, err := o.prometheus(cluster)
	if err != nil {
		return consoleParts{}, err
	}
	who, cancel := context.WithTimeout(ctx, connectTimeout)
	user := actions.WhoAmI(who, cluster.Client, cluster.User)
	cancel()
	// One reader of GitOps owners for the list, the detail and the actions' plans.
	owners := kube.NewOwnerReader(cluster.Client, kube.OwnerReaderOptions{})
	parts := consoleParts{user: user, owners: owners, actor: o.actor(cluster, user, s, owners)}
	if client != nil {
		parts.poller = &metrics.Poller{Source: client, Namespace: o.namespace(cluster), Interval: o.MetricsInterval}
		parts.poller.Run(ctx)
	}
	parts.inspector = inspector{cluster: cluster, thresholds: o.Config.Thresholds}
	if s.noFiles {
		parts.inspector = clipboardInspector{inspector{cluster: cluster, thresholds: o.Config.Thresholds}}
	}
	return parts, nil
}

// actor is what the console acts through, as user: the actions service, read-only when
// --read-only or the session says so (its reason wins: it says which).
func (o *ConsoleOptions) actor(cluster *kube.Cluster, user string, s consoleSession, owners *kube.OwnerReader) app.Actor {
	return actions.Service{
		Driver: &actions.Driver{Client: cluster.Client, User: user, Owners: owners},
		Access: &actions.Access{Client: cluster.Client, ReadOnly: o.ReadOnly || s.readOnly, ReadOnlyReason: s.readOnlyReason},
	}
}

// wrapped is actor wrapped for the session (serve's audit log), or as it is.
func (s consoleSession) wrapped(actor app.Actor) app.Actor {
	if s.wrapActor != nil {
		return s.wrapActor(actor)
	}
	return actor
}

// colorEnabled: no --no-color, and no NO_COLOR in the terminal's environment env.
func (o *Options) colorEnabled(env []string) bool {
	return !o.NoColor && envValue(env, "NO_COLOR") == ""
}

// envValue is KEY's value in env (KEY=VALUE lines; the last one wins, as in exec).
func envValue(env []string, key string) string {
	value := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			value = v
		}
	}
	return value
}

func isTerminal(stream any) bool {
	f, ok := stream.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
