package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/guardrail"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/notify"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/version"
)

// GuardOptions are `kubectl pyroll guard`'s.
type GuardOptions struct {
	*Options
	ScopeOptions
	After     int
	Action    string
	DryRun    bool
	Notify    []string
	ReportDir string
	Output    string

	LeaderElect    bool
	LeaseNamespace string
	LeaseName      string
	LeaseDuration  time.Duration

	// HoldGitOps: "flux-halts" (default: hold a Flux owner before a halt, which Flux would
	// remove within its interval), "always" (hold any owner that would undo the action),
	// "never".
	HoldGitOps string
}

const guardLong = `Watch the rollouts in a namespace (-A: all) and, when a canary breaches its SLO
thresholds (pyroll.dev/max-error-rate, pyroll.dev/max-p95-latency, or the config file's)
for --after metric rounds in a row, halt it (or, with --action rollback, roll it back to
the stable revision, as the console's r key does), record why on the Deployment, and tell
on-call: every --notify URL gets a JSON document with both revisions' builds (git SHA,
version, image and digest, lock hash, Python, pipeline run) and the incident report; its
"text" field reads well in a Slack or Mattermost incoming webhook.

Unlike the console's --auto-halt, which lasts as long as the console, guard is meant to
run on its own: on a laptop, in a CI job beside the deploy, or as two replicas in the
cluster with --leader-elect (only the holder of the Lease acts; the other takes over when
it goes). See the README's "Guardrail" section.

It never acts without numbers (no traffic, no series, Prometheus unreachable: said once
per change), never twice on the same canary revision (a rollout someone promoted after a
halt is left alone until its next revision), and only on a rollout in progress (a canary
beside a stable revision) or a release in its bake window.

The bake window: a release that completed (a plain rolling update finishes in seconds,
long before --after rounds) stays watched for its bake time (pyroll.dev/bake-time, else
$PYROLL_BAKE_TIME, the config file's bake.time, or 15m; "0" turns it off). It is judged by
its thresholds, or without an error threshold against the error rate the revision before
it had in the 10 minutes before the release. --action rollback rolls it back to that
revision; --action halt cannot halt what completed: it tells on-call once and changes
nothing. pyroll.dev/on-breach: rollback|halt|notify on a rollout overrides --action. It logs one line per decision and change of verdict to stderr
(-o json: one JSON object a line). SIGINT or SIGTERM stops it (exit 0), releasing the Lease.`

const guardExample = `  kubectl pyroll guard -n shop --prometheus-url http://prometheus:9090
  kubectl pyroll guard orders-api --after 2 --action rollback --notify https://hooks.slack.com/services/...
  kubectl pyroll guard -A --leader-elect --lease-namespace pyroll-guard -o json`

func newGuardCommand(o *Options) *cobra.Command {
	g := &GuardOptions{Options: o, ScopeOptions: ScopeOptions{WatchOnlyNamed: true}}
	cmd := &cobra.Command{
		Use:     "guard [NAME]",
		Short:   "Headless SLO guardrail: halt (or roll back) a breaching canary and notify on-call with the build",
		Long:    guardLong,
		Example: guardExample,
		Args:    usageArgs(cobra.MaximumNArgs(1)),
		RunE:    completeValidateRun(g),
	}
	g.ScopeOptions.AddFlags(cmd.Flags())
	cmd.Flags().IntVar(&g.After, "after", 3, "consecutive breaching metric rounds before acting")
	cmd.Flags().StringVar(&g.Action, "action", "halt", "what to do to a breaching canary: halt, rollback or notify (a release in its bake window: rollback, else notify); pyroll.dev/on-breach on a rollout overrides it")
	cmd.Flags().BoolVar(&g.DryRun, "dry-run", false, "decide, log and notify, but change nothing")
	cmd.Flags().StringArrayVar(&g.Notify, "notify", nil, "POST a JSON notification to this URL on every action (repeatable; also $PYROLL_NOTIFY_URL)")
	cmd.Flags().StringVar(&g.ReportDir, "report-dir", "", "also write each decision's incident report (Markdown) in this directory")
	cmd.Flags().StringVarP(&g.Output, "output", "o", "text", "log format on stderr: text or json")
	cmd.Flags().StringVar(&g.HoldGitOps, "hold-gitops", "flux-halts", "hold a rollout's GitOps owner before acting so that the action stays: flux-halts (a halt Flux would remove within its interval), always (also Argo CD's auto-sync before a rollback), or never")
	cmd.Flags().BoolVar(&g.LeaderElect, "leader-elect", false, "act only while holding a coordination.k8s.io Lease (run two replicas)")
	cmd.Flags().StringVar(&g.LeaseNamespace, "lease-namespace", "", "namespace of the Lease (default: the namespace watched, else the context's)")
	cmd.Flags().StringVar(&g.LeaseName, "lease-name", "kubectl-pyroll-guard", "name of the Lease")
	cmd.Flags().DurationVar(&g.LeaseDuration, "lease-duration", 15*time.Second, "how long a Lease nobody renews stays taken (a standby takes over after it)")
	return cmd
}

// Validate rejects what cannot work, before connecting.
func (o *GuardOptions) Validate() error {
	if err := o.ScopeOptions.Validate(); err != nil {
		return err
	}
	switch guard.Act(o.Action) {
	case guard.ActHalt, guard.ActRollback, guard.ActNotify:
	default:
		return usageError("--action must be halt, rollback or notify, not %q", o.Action)
	}
	switch o.HoldGitOps {
	case "flux-halts", "always", "never":
	default:
		return usageError("--hold-gitops must be flux-halts, always or never, not %q", o.HoldGitOps)
	}
	if o.After < 1 {
		return usageError("--after must be at least 1")
	}
	if o.Output != "text" && o.Output != "json" {
		return usageError("unknown log format %q: use text or json", o.Output)
	}
	if o.ReadOnly && !o.DryRun {
		return usageError("--read-only forbids acting: add --dry-run to watch and notify only")
	}
	if !o.hasPrometheus() {
		return guardrail.ErrNoPrometheus // not a usage mistake: a missing piece (exit 1)
	}
	if o.LeaseDuration < 2*time.Second {
		return usageError("--lease-duration must be at least 2s")
	}
	return nil
}

// Complete reads NAME and the selector, and the webhooks of $PYROLL_NOTIFY_URL when no
// --notify is given.
func (o *GuardOptions) Complete(args []string) error {
	if env := os.Getenv("PYROLL_NOTIFY_URL"); env != "" && len(o.Notify) == 0 {
		o.Notify = strings.Fields(env)
	}
	return o.ScopeOptions.Complete(args)
}

// Run checks access, then guards until SIGINT/SIGTERM.
func (o *GuardOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := o.logger()
	contexts, err := o.selectedContexts(&o.ScopeOptions)
	if err != nil {
		return err
	}
	deliverer := o.deliverer(log)
	if contexts == nil {
		cluster, err := o.connect(ctx, connectTimeout)
		if err != nil {
			return err
		}
		guarded, err := o.prepare(ctx, cluster, log, deliverer)
		if err != nil {
			return err
		}
		guarded.run(ctx)
		defer guarded.stopped()
	} else {
		// Every context guarded, or none: a guard that silently skipped one region would
		// be worse than one that does not start.
		conns, err := o.connectFleet(ctx, contexts, connectTimeout)
		if err != nil {
			return err
		}
		var all []*guardedContext
		for _, c := range conns {
			if c.err != nil {
				return fmt.Errorf("guard cannot start: %w", c.err)
			}
			guarded, err := o.prepare(ctx, c.cluster, log.With("context", c.name), deliverer)
			if err != nil {
				return fmt.Errorf("context %s: %w", c.name, err)
			}
			all = append(all, guarded)
		}
		var wg sync.WaitGroup
		for _, g := range all {
			wg.Go(func() { g.run(ctx) })
			defer g.stopped()
		}
		wg.Wait()
	}
	flush, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	deliverer.Wait(flush)
	return nil
}

// guardedContext is one cluster's guard, ready to run: its watcher, Prometheus, guardrail
// and, with --leader-elect, its own Lease.
type guardedContext struct {
	o         *GuardOptions
	cluster   *kube.Cluster
	log       *slog.Logger
	prom      metrics.Source
	rail      *guardrail.Guardrail
	namespace string
	lease     string // leaseNamespace
}

// prepare checks what the guard needs on cluster (Prometheus answering, RBAC) and builds
// its guardrail; it logs "guard started".
func (o *GuardOptions) prepare(ctx context.Context, cluster *kube.Cluster, log *slog.Logger, deliverer *notify.Deliverer) (*guardedContext, error) {
	prom, err := o.prometheus(cluster)
	if err != nil {
		return nil, err
	}
	if err := prom.Ping(ctx); err != nil {
		return nil, fmt.Errorf("guard cannot start without error rates: %v; check --prometheus-url (or --prometheus-service)", err)
	}
	namespace := o.namespace(cluster)
	leaseNamespace := o.LeaseNamespace
	if leaseNamespace == "" {
		leaseNamespace = cluster.Namespace
	}
	if err := o.checkAccess(ctx, cluster, namespace, leaseNamespace); err != nil {
		return nil, err
	}
	user := actions.WhoAmI(ctx, cluster.Client, cluster.User)
	driver := &actions.Driver{Client: cluster.Client, User: user}
	policy := o.policy(leaseNamespace)
	rail := o.guardrail(log, policy, driver, deliverer, func(ctx context.Context, r ref.Rollout, report metrics.Report) (incident.Evidence, error) {
		return incidentEvidence(ctx, cluster, r, report, o.Config.Thresholds)
	})
	where := "namespace " + namespace
	if namespace == "" {
		where = "all namespaces"
	}
	// The webhooks by name only (scheme, host, position): their URLs are credentials.
	log.Info("guard started: "+guardrail.Describe(policy, o.DryRun),
		"context", cluster.Context, "scope", where, "user", user, "version", version.Version, "notify", deliverer.Names())
	return &guardedContext{o: o, cluster: cluster, log: log, prom: prom, rail: rail, namespace: namespace, lease: leaseNamespace}, nil
}

// run guards the cluster until ctx ends: under its Lease with --leader-elect.
func (g *guardedContext) run(ctx context.Context) {
	o := g.o
	watch := func(ctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		o.guardLoop(ctx, o.watch(ctx, g.cluster, o.NotReadyGrace, o.BakeTime), g.prom, g.rail, g.namespace)
	}
	if o.LeaderElect {
		identity, _ := os.Hostname()
		identity = fmt.Sprintf("%s_%d", identity, os.Getpid())
		election := &kube.LeaderElection{Client: g.cluster.Client, Namespace: g.lease, Name: o.LeaseName, Identity: identity,
			LeaseDuration: o.LeaseDuration, RenewDeadline: o.LeaseDuration * 2 / 3, RetryPeriod: o.LeaseDuration / 7,
			Log: func(format string, args ...any) { g.log.Info(fmt.Sprintf(format, args...)) }}
		g.log.Info("waiting for the lease", "lease", g.lease+"/"+o.LeaseName, "identity", identity)
		election.Run(ctx, watch)
	} else {
		watch(ctx)
	}
}

// stopped logs the end, once the notifications are flushed.
func (g *guardedContext) stopped() { g.log.Info("guard stopped", "decisions", g.rail.Decisions) }

// deliverer tells the --notify webhooks, its failures logged as warnings.
func (o *GuardOptions) deliverer(log *slog.Logger) *notify.Deliverer {
	return &notify.Deliverer{URLs: o.Notify, Client: &http.Client{Timeout: 10 * time.Second},
		Log: func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }}
}

// guardrail is what the loop drives: it acts through actor, tells on-call through
// deliverer and reads a rollout's evidence for the report with evidence.
// policy is the guard's: when to act, how, and the name it records on what it acts on.
func (o *GuardOptions) policy(leaseNamespace string) guard.Policy {
	policy := guard.Policy{After: o.After, Act: guard.Act(o.Action), Guard: "guard"}
	if o.LeaderElect {
		// The guard's memory on the objects is its Lease's: a standby that takes it over
		// remembers what the leader acted on.
		policy.Guard, policy.Leased = leaseNamespace+"/"+o.LeaseName, true
	}
	return policy
}

func (o *GuardOptions) guardrail(log *slog.Logger, policy guard.Policy, actor guardrail.Actor, deliverer *notify.Deliverer,
	evidence func(context.Context, ref.Rollout, metrics.Report) (incident.Evidence, error)) *guardrail.Guardrail {
	cfg := guardrail.Config{
		Policy:   policy,
		Defaults: o.Config.Thresholds, DryRun: o.DryRun, Actor: actor, ReportDir: o.ReportDir, Log: log, Evidence: evidence,
		HoldOwner: holdOwnerPolicy(o.HoldGitOps),
	}
	if len(o.Notify) > 0 {
		cfg.Notify = deliverer.Send
	}
	return guardrail.New(cfg)
}

// holdOwnerPolicy is --hold-gitops as the guardrail asks it. The owner holds only what
// it would undo (the driver reads it): "always" with an Argo CD app whose auto-sync is
// off holds nothing.
func holdOwnerPolicy(mode string) func(*rollout.Rollout, intent.Action) bool {
	return func(r *rollout.Rollout, a intent.Action) bool {
		if r.Owner == nil || r.Owner.Owner == nil {
			return false
		}
		switch mode {
		case "always":
			return true
		case "flux-halts":
			return a == intent.Halt && r.Owner.Owner.Tool == owner.Flux
		}
		return false
	}
}

// guardLoop judges each metrics round of the rollouts last seen on snapshots until ctx
// ends (or leadership is lost) or snapshots closes.
func (o *GuardOptions) guardLoop(ctx context.Context, snapshots <-chan rollout.Snapshot, prom metrics.Source, rail *guardrail.Guardrail, namespace string) {
	poller := &metrics.Poller{Source: prom, Namespace: namespace, Interval: o.MetricsInterval}
	rounds := poller.Run(ctx)
	var rollouts []rollout.Rollout
	var lastConn rollout.ConnState
	for {
		select {
		case <-ctx.Done():
			return
		case snap, ok := <-snapshots:
			if !ok {
				return
			}
			if snap.Conn.State != lastConn {
				rail.ConnectionChanged(snap.Conn)
				lastConn = snap.Conn.State
			}
			if snap.Synced {
				rollouts = snap.Rollouts
				poller.SetRollouts(rollouts)
			}
		case polled, ok := <-rounds:
			if !ok {
				return
			}
			rail.OnRound(ctx, rollouts, polled)
		}
	}
}

// checkAccess says, in one line before the loop starts, which verb RBAC refuses.
func (o *GuardOptions) checkAccess(ctx context.Context, cluster *kube.Cluster, namespace, leaseNamespace string) error {
	var needs []actions.Need
	for _, resource := range []string{"deployments", "replicasets", "pods"} {
		group := ""
		if resource != "pods" {
			group = "apps"
		}
		for _, verb := range []string{"list", "watch"} {
			needs = append(needs, actions.Need{Verb: verb, Group: group, Resource: resource, Namespace: namespace})
		}
	}
	if !o.DryRun {
		verb := "patch"
		if guard.Act(o.Action) == guard.ActRollback {
			verb = "update"
		}
		needs = append(needs, actions.Need{Verb: verb, Group: "apps", Resource: "deployments", Namespace: namespace})
	}
	if o.LeaderElect {
		for _, verb := range []string{"get", "create", "update"} {
			needs = append(needs, actions.Need{Verb: verb, Group: "coordination.k8s.io", Resource: "leases", Namespace: leaseNamespace})
		}
	}
	missing, err := actions.Missing(ctx, cluster.Client, needs)
	if err != nil {
		return cluster.ExplainError(err)
	}
	if len(missing) == 0 {
		return nil
	}
	words := make([]string, len(missing))
	for i, n := range missing {
		words[i] = n.String()
	}
	return fmt.Errorf("guard cannot start: RBAC does not let %s %s; ask for it (the README's \"Guardrail\" section lists the Role), or use --dry-run to watch without acting",
		actions.WhoAmI(ctx, cluster.Client, cluster.User), strings.Join(words, ", "))
}

func (o *GuardOptions) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if o.Output == "json" {
		return slog.New(slog.NewJSONHandler(o.ErrOut, opts))
	}
	return slog.New(slog.NewTextHandler(o.ErrOut, opts))
}
