package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/metrics/promclient"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// StatusOptions are `kubectl pyroll status`'s.
type StatusOptions struct {
	*Options
	ScopeOptions
	Output  string
	Watch   bool
	Timeout time.Duration
	// After is how many breaching metric rounds in a row end a --watch with exit 1.
	After int
	// NoWaitPods prints as soon as the rollouts and their ReplicaSets are read, before the
	// pods: phases from the status alone, each rollout "pods": "syncing".
	NoWaitPods bool
	// BakeTime, when set (>= 0), is the most of a release's bake window a --watch waits
	// for (0: none); unset (-1), the whole window.
	BakeTime time.Duration
}

const statusLong = `Show the rollouts in a namespace: phase, revisions, pods and why.

Phases: Failed (progress deadline exceeded), Degraded (new pods failing: crash loop,
image pull, OOMKilled, bad config, not ready past --not-ready-grace, 5m), Halted (paused),
Progressing, Complete.

With --watch it prints each change and ends as soon as every rollout shown is settled:
Complete or Halted (exit 0), Failed or Degraded (exit 1, without waiting for the
progress deadline). A Halted rollout is not a failure. With Prometheus configured
(--prometheus-url, or the config file) it also reads the error rates every
--metrics-interval, and a canary in BREACH of its thresholds for --after rounds in a row
ends the watch with exit 1 and the why: a deploy job fails on an SLO breach too.

A release that completed is Baking for its bake window (pyroll.dev/bake-time, else
$PYROLL_BAKE_TIME, the config file's bake.time, or 15m): with Prometheus, --watch waits for
the window's verdict: exit 1 when the release is in BREACH for --after rounds (judged by
its thresholds, else against the revision before it), exit 0 when the window ends clean.
--bake-time D waits at most D of the window (0: not at all).

Exit codes: 0 fine; 1 a rollout shown is Failed or Degraded, or the command failed;
2 usage error; 3 --timeout reached before the rollouts settled.

Output (-o): table (80 columns), json (one document, schema in the README), ndjson
(one JSON object per line; with --watch one line per change).

It waits for every pod before it answers: a crash loop or a pod not ready past its
grace is read from the pods. --no-wait-pods answers as soon as the rollouts and their
ReplicaSets are read (on a large cluster, well before the pods): phases from their
status alone (never Degraded by pods), each rollout "pods": "syncing" in -o json.`

const statusExample = `  kubectl pyroll status -n shop
  kubectl pyroll status orders-api --watch --timeout 10m
  kubectl pyroll status -A -o json | jq '.items[] | select(.phase == "Degraded") | .name'
  kubectl pyroll status orders-api -o ndjson --watch
  kubectl pyroll status orders-api --contexts prod-eu,prod-us --watch   # settled in both`

func newStatusCommand(o *Options) *cobra.Command {
	so := &StatusOptions{Options: o, ScopeOptions: ScopeOptions{WatchOnlyNamed: true}}
	cmd := &cobra.Command{
		Use:     "status [NAME]",
		Short:   "Show rollouts and their health; --watch follows one until it settles",
		Long:    statusLong,
		Example: statusExample,
		Args:    usageArgs(cobra.MaximumNArgs(1)),
		RunE:    completeValidateRun(so),
	}
	cmd.Flags().StringVarP(&so.Output, "output", "o", "table", "output format: table, json or ndjson")
	cmd.Flags().BoolVarP(&so.Watch, "watch", "w", false, "follow changes until every rollout shown is settled")
	cmd.Flags().DurationVar(&so.Timeout, "timeout", 0, "give up after this long (exit 3 with --watch); 0 waits forever with --watch, 30s to connect without")
	cmd.Flags().IntVar(&so.After, "after", 3, "with Prometheus and --watch: a canary in BREACH for this many metric rounds in a row ends the watch with exit 1")
	cmd.Flags().DurationVar(&so.BakeTime, "bake-time", -1, "with --watch and Prometheus: wait at most this long of a completed release's bake window for its verdict (0: not at all; default the whole window)")
	cmd.Flags().Lookup("bake-time").DefValue = "the window"
	cmd.Flags().BoolVar(&so.NoWaitPods, "no-wait-pods", false, "answer once the rollouts and ReplicaSets are read, before the pods: phases from their status alone (\"pods\": \"syncing\" in -o json); not with --watch")
	so.ScopeOptions.AddFlags(cmd.Flags())
	return cmd
}

// Validate rejects flag combinations that cannot work.
func (o *StatusOptions) Validate() error {
	switch o.Output {
	case "table", "json", "ndjson":
	default:
		return usageError("unknown output format %q: use table, json or ndjson", o.Output)
	}
	if o.Watch && o.Output == "json" {
		return usageError("-o json prints one document; with --watch use -o ndjson (one object per change)")
	}
	if o.Timeout < 0 {
		return usageError("--timeout must not be negative")
	}
	if o.After < 1 {
		return usageError("--after must be at least 1")
	}
	if o.NoWaitPods && o.Watch {
		return usageError("--no-wait-pods answers once, early; --watch follows until settled, which needs the pods")
	}
	return o.ScopeOptions.Validate()
}

// statusRun is one run of `status`: the source of snapshots and metrics, the printer.
type statusRun struct {
	*StatusOptions
	src       statusSource
	printer   *statusPrinter
	poller    metricsFeed // nil without Prometheus or without --watch
	rollouts  []rollout.Rollout
	guard     guard.State
	lastState rollout.ConnState
}

// metricsFeed is a metrics.Poller, or several contexts' merged.
type metricsFeed interface {
	SetRollouts(rollouts []rollout.Rollout)
	Rounds() <-chan metrics.Polled
}

// statusSource is what status reads: one cluster's, or several contexts' merged.
type statusSource struct {
	snapshots <-chan rollout.Snapshot
	// feed polls the metrics while --watch follows (nil: no Prometheus, or one-shot).
	feed metricsFeed
	// report reads one round now for the one-shot answer (nil: no Prometheus).
	report func(ctx context.Context, rollouts []rollout.Rollout) metrics.Report
	owners func(rollout.Rollout) *owner.Report
	// context and namespace head the JSON document; contexts, with several.
	context, namespace string
	contexts           []string
	// server names who did not answer in time ("the API server at https://…").
	server string
	// named is NAME as looked for (its namespace: the context's when one).
	named ref.Rollout
	// failed are the contexts that did not answer (several contexts only).
	failed []error
}

// oneCluster is the source of a status on one cluster.
func (o *StatusOptions) oneCluster(ctx context.Context, cluster *kube.Cluster) (statusSource, error) {
	prom, err := o.prometheus(cluster)
	if err != nil {
		return statusSource{}, err
	}
	ns := o.namespace(cluster)
	src := statusSource{
		snapshots: o.watch(ctx, cluster, o.NotReadyGrace, o.BakeTime),
		owners:    ownerReports(ctx, kube.NewOwnerReader(cluster.Client, kube.OwnerReaderOptions{})),
		context:   cluster.Context, namespace: ns,
		server: "the API server at " + cluster.Config.Host,
		named:  o.named(cluster),
	}
	if prom != nil {
		src.report = func(ctx context.Context, rollouts []rollout.Rollout) metrics.Report {
			return prom.Report(ctx, ns, rollouts, time.Now())
		}
		if o.Watch {
			poller := &metrics.Poller{Source: prom, Namespace: ns, Interval: o.MetricsInterval}
			poller.Run(ctx)
			src.feed = poller
		}
	}
	return src, nil
}

// Run connects, waits for the informers to sync and prints, once or until settled.
func (o *StatusOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	connectWithin := connectTimeout
	if o.Timeout > 0 && (!o.Watch || o.Timeout < connectWithin) {
		connectWithin = o.Timeout
	}
	contexts, err := o.selectedContexts(&o.ScopeOptions)
	if err != nil {
		return err
	}
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var src statusSource
	if contexts != nil {
		src, err = o.fleet(watchCtx, contexts, connectWithin)
	} else {
		var cluster *kube.Cluster
		if cluster, err = o.connect(ctx, connectWithin); err == nil {
			src, err = o.oneCluster(watchCtx, cluster)
		}
	}
	if err != nil {
		return err
	}
	run := &statusRun{StatusOptions: o, src: src, guard: guard.State{}, poller: src.feed}
	run.printer = newStatusPrinter(o.Out, o.ErrOut, o.Output, o.AllNamespaces, src.context, src.namespace)
	run.printer.contexts = src.contexts
	run.printer.owners = src.owners
	var deadline <-chan time.Time
	switch {
	case o.Watch && o.Timeout > 0:
		deadline = time.After(o.Timeout)
	case !o.Watch:
		deadline = time.After(connectWithin)
	}
	snapshots := src.snapshots
	var rounds <-chan metrics.Polled
	if src.feed != nil {
		rounds = src.feed.Rounds()
	}
	return run.withUnread(run.follow(ctx, deadline, snapshots, rounds, connectWithin))
}

// follow prints what the snapshots and the metrics rounds say until the answer is whole
// (one-shot) or every rollout settled (--watch).
func (run *statusRun) follow(ctx context.Context, deadline <-chan time.Time, snapshots <-chan rollout.Snapshot, rounds <-chan metrics.Polled, connectWithin time.Duration) error {
	var bakeTimer *time.Timer
	defer func() {
		if bakeTimer != nil {
			bakeTimer.Stop()
		}
	}()
	for {
		var bakeEnds <-chan time.Time // the end of the wait for a bake window, when the watch waits for one
		if bakeTimer != nil {
			bakeTimer.Stop()
			bakeTimer = nil
		}
		if due := run.bakeWaitEnds(); !due.IsZero() {
			bakeTimer = time.NewTimer(time.Until(due))
			bakeEnds = bakeTimer.C
		}
		select {
		case <-bakeEnds:
			if run.settled(time.Now()) {
				return exitForRollouts(run.rollouts)
			}
		case <-ctx.Done():
			return &ExitError{Code: ExitFailure, Err: errors.New("interrupted")}
		case <-deadline:
			return run.timedOut(connectWithin)
		case snap, ok := <-snapshots:
			if !ok {
				return &ExitError{Code: ExitFailure, Err: errors.New("interrupted")}
			}
			if done, err := run.onSnapshot(ctx, snap); done {
				return err
			}
		case polled, ok := <-rounds:
			if !ok {
				return &ExitError{Code: ExitFailure, Err: errors.New("interrupted")}
			}
			if done, err := run.onRound(polled); done {
				return err
			}
		}
	}
}

func (r *statusRun) timedOut(connectWithin time.Duration) error {
	if r.Watch {
		return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s before every rollout settled", r.Timeout)}
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("no complete answer from %s within %s", r.src.server, connectWithin)}
}

// onSnapshot prints what the snapshot changed; done when the command should end, with
// its error (nil: exit 0).
func (r *statusRun) onSnapshot(ctx context.Context, snap rollout.Snapshot) (done bool, err error) {
	if snap.Conn.State == rollout.ConnForbidden {
		return true, fmt.Errorf("%s; status %s", snap.Conn.Message, snap.Conn.Hint)
	}
	// A watch reports losing and regaining the connection; syncing->live is no news.
	if r.Watch && snap.Conn.State != r.lastState && (snap.Conn.State == rollout.ConnReconnecting || r.lastState == rollout.ConnReconnecting) {
		r.printer.state(snap.Conn)
	}
	r.lastState = snap.Conn.State
	early := r.NoWaitPods && !r.Watch && snap.PodsSyncing && snap.EveryContextHasRows()
	if !snap.Synced && !early {
		return false, nil
	}
	rollouts := snap.Rollouts
	r.rollouts = rollouts
	if named := r.src.named; named.Name != "" && len(rollouts) == 0 {
		what := "rollout"
		switch named.Kind {
		case ref.Deployment:
			what = "Deployment"
		case ref.ArgoRollout:
			what = "Argo Rollout"
		}
		if len(r.src.contexts) > 0 {
			return true, fmt.Errorf("no %s named %q in contexts %s", what, named.Name, strings.Join(r.src.contexts, ", "))
		}
		return true, fmt.Errorf("no %s named %q in namespace %q", what, named.Name, named.Namespace)
	}
	if r.poller != nil {
		r.poller.SetRollouts(rollouts)
	}
	if !r.Watch {
		if early {
			// Metrics map to revisions through the pods: none yet.
			fmt.Fprintln(r.ErrOut, "pods still syncing (--no-wait-pods): phases from the rollouts' and ReplicaSets' status only")
		} else if r.src.report != nil { // one round, read now, for the one answer
			roundCtx, cancel := context.WithTimeout(ctx, promclient.QueryTimeout*2)
			report := r.src.report(roundCtx, rollouts)
			cancel()
			r.warn(metrics.Polled{Report: report, NewWarnings: report.Warnings})
			r.printer.verdicts = guard.JudgeRound(rollouts, report, r.Config.Thresholds)
		}
		if err := r.printer.all(rollouts, snap.At); err != nil {
			return true, err
		}
		return true, exitForRollouts(rollouts)
	}
	if err := r.printer.changes(rollouts, snap.At); err != nil {
		return true, err
	}
	if r.settled(time.Now()) {
		return true, exitForRollouts(rollouts)
	}
	return false, nil
}

// onRound prints what a metrics round changed; a canary in BREACH for --after rounds in
// a row ends the watch with exit 1 and the why, so that a deploy job fails on an SLO
// breach, not only on crash loops.
func (r *statusRun) onRound(polled metrics.Polled) (done bool, err error) {
	r.warn(polled)
	verdicts := guard.JudgeRound(r.rollouts, polled.Report, r.Config.Thresholds)
	r.printer.verdicts = verdicts
	var changes []guard.Change
	r.guard, _, changes = guard.Step(r.guard, r.rollouts, verdicts, guard.Policy{After: r.After, Act: guard.ActHalt})
	if len(changes) > 0 {
		if err := r.printer.changes(r.rollouts, polled.Report.At); err != nil {
			return true, err
		}
	}
	var breaches []string
	for _, id := range r.guard.Breaching(r.After) {
		breaches = append(breaches, fmt.Sprintf("%s: %s for %d metric rounds", id, verdicts.Of(id).Why, r.After))
	}
	if len(breaches) > 0 {
		return true, &ExitError{Code: ExitFailure, Err: fmt.Errorf("SLO breach: %s", strings.Join(breaches, "; "))}
	}
	return false, nil
}

// warn says Prometheus' failures and warnings on stderr, each warning once.
func (r *statusRun) warn(polled metrics.Polled) {
	if polled.Report.Err != nil {
		fmt.Fprintf(r.ErrOut, "warning: metrics: %v\n", polled.Report.Err)
	}
	for _, w := range polled.NewWarnings {
		fmt.Fprintf(r.ErrOut, "warning: metrics: %s\n", w)
	}
}

// settled: every rollout is Complete, Halted, Failed or Degraded, or Baking past the
// wait for its window's verdict (there is none without Prometheus).
func (r *statusRun) settled(now time.Time) bool {
	for i := range r.rollouts {
		ro := &r.rollouts[i]
		switch {
		case ro.Phase == rollout.PhaseProgressing:
			return false
		case ro.Baking() && r.poller != nil && now.Before(r.bakeWaitOf(ro)):
			return false
		}
	}
	return true
}

// bakeWaitOf is when the watch stops waiting for a baking release's verdict: its window's
// end, or --bake-time after it completed if that is sooner.
func (r *statusRun) bakeWaitOf(ro *rollout.Rollout) time.Time {
	until := ro.Bake.Until
	if r.BakeTime >= 0 {
		if capped := ro.Bake.CompletedAt.Add(r.BakeTime); capped.Before(until) {
			until = capped
		}
	}
	return until
}

// bakeWaitEnds is the earliest end of a wait that --bake-time cuts short (zero when
// none): a window's own end needs no timer, the watcher rebuilds then and the release's
// last line, Complete, ends the watch.
func (r *statusRun) bakeWaitEnds() time.Time {
	var first time.Time
	if r.poller == nil {
		return first
	}
	for i := range r.rollouts {
		if ro := &r.rollouts[i]; ro.Baking() {
			if due := r.bakeWaitOf(ro); due.Before(ro.Bake.Until) && (first.IsZero() || due.Before(first)) {
				first = due
			}
		}
	}
	return first
}

func exitForRollouts(rollouts []rollout.Rollout) error {
	for _, r := range rollouts {
		if r.Phase.IsFailure() {
			return &ExitError{Code: ExitFailure}
		}
	}
	return nil
}
