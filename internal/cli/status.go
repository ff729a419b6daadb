package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics/promclient"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// StatusOptions are `kubectl pyroll status`'s.
type StatusOptions struct {
	*Options
	ScopeOptions
	Output  string
	Watch   bool
	Timeout time.Duration
}

const statusLong = `Show the rollouts in a namespace: phase, revisions, pods and why.

Phases: Failed (progress deadline exceeded), Degraded (new pods failing: crash loop,
image pull, OOMKilled, bad config, not ready for 5 minutes), Halted (paused),
Progressing, Complete.

With --watch it prints each change and ends as soon as every rollout shown is settled:
Complete or Halted (exit 0), Failed or Degraded (exit 1, without waiting for the
progress deadline). A Halted rollout is not a failure.

Exit codes: 0 fine; 1 a rollout shown is Failed or Degraded, or the command failed;
2 usage error; 3 --timeout reached before the rollouts settled.

Output (-o): table (80 columns), json (one document, schema in the README), ndjson
(one JSON object per line; with --watch one line per change).`

const statusExample = `  kubectl pyroll status -n shop
  kubectl pyroll status orders-api --watch --timeout 10m
  kubectl pyroll status -A -o json | jq '.items[] | select(.phase == "Degraded") | .name'
  kubectl pyroll status orders-api -o ndjson --watch`

func newStatusCommand(o *Options) *cobra.Command {
	so := &StatusOptions{Options: o, ScopeOptions: ScopeOptions{WatchOnlyNamed: true}}
	cmd := &cobra.Command{
		Use:     "status [NAME]",
		Short:   "Show rollouts and their health; --watch follows one until it settles",
		Long:    statusLong,
		Example: statusExample,
		Args:    usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := so.Complete(args); err != nil {
				return err
			}
			if err := so.Validate(); err != nil {
				return err
			}
			return so.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&so.Output, "output", "o", "table", "output format: table, json or ndjson")
	cmd.Flags().BoolVarP(&so.Watch, "watch", "w", false, "follow changes until every rollout shown is settled")
	cmd.Flags().DurationVar(&so.Timeout, "timeout", 0, "give up after this long (exit 3 with --watch); 0 waits forever with --watch, 30s to connect without")
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
	return o.ScopeOptions.Validate()
}

// statusRun is one run of `status`: the connection, the printer and the metrics.
type statusRun struct {
	*StatusOptions
	cluster   *kube.Cluster
	printer   *statusPrinter
	prom      *promclient.Client
	metricsAt time.Time
	warned    map[string]bool
	lastState rollout.ConnState
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
	cluster, err := o.connect(ctx, connectWithin)
	if err != nil {
		return err
	}
	run := &statusRun{StatusOptions: o, cluster: cluster, warned: map[string]bool{}}
	run.printer = newStatusPrinter(o.Out, o.ErrOut, o.Output, o.AllNamespaces, cluster.Context, o.namespace(cluster))
	run.printer.thresholds = o.Config.Thresholds
	if o.Output != "table" {
		if run.prom, err = o.prometheus(cluster); err != nil {
			return err
		}
	}
	var deadline <-chan time.Time
	switch {
	case o.Watch && o.Timeout > 0:
		deadline = time.After(o.Timeout)
	case !o.Watch:
		deadline = time.After(connectWithin)
	}
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapshots := o.watch(watchCtx, cluster)
	for {
		select {
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
		}
	}
}

func (r *statusRun) timedOut(connectWithin time.Duration) error {
	if r.Watch {
		return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s before every rollout settled", r.Timeout)}
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("no complete answer from the API server at %s within %s", r.cluster.Config.Host, connectWithin)}
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
	if !snap.Synced {
		return false, nil
	}
	rollouts := snap.Rollouts
	if named := r.named(r.cluster); named.Name != "" && len(rollouts) == 0 {
		return true, fmt.Errorf("no rollout named %q in namespace %q", named.Name, named.Namespace)
	}
	r.refreshMetrics(ctx, rollouts)
	if !r.Watch {
		if err := r.printer.all(rollouts, snap.At); err != nil {
			return true, err
		}
		return true, exitForRollouts(rollouts)
	}
	if err := r.printer.changes(rollouts, snap.At); err != nil {
		return true, err
	}
	if settled(rollouts) {
		return true, exitForRollouts(rollouts)
	}
	return false, nil
}

// refreshMetrics reads the error rates at most once per --metrics-interval.
func (r *statusRun) refreshMetrics(ctx context.Context, rollouts []rollout.Rollout) {
	if r.prom == nil || time.Since(r.metricsAt) < r.MetricsInterval {
		return
	}
	r.metricsAt = time.Now()
	report := r.prom.Report(ctx, r.namespace(r.cluster), rollouts, r.metricsAt)
	if report.Err != nil {
		fmt.Fprintf(r.ErrOut, "warning: metrics: %v\n", report.Err)
	}
	for _, w := range report.Warnings {
		if !r.warned[w] { // once each, not every interval of a --watch
			r.warned[w] = true
			fmt.Fprintf(r.ErrOut, "warning: metrics: %s\n", w)
		}
	}
	r.printer.metrics = report
}

// settled: every rollout is Complete, Halted, Failed or Degraded.
func settled(rollouts []rollout.Rollout) bool {
	for _, r := range rollouts {
		if r.Phase == rollout.PhaseProgressing {
			return false
		}
	}
	return true
}

func exitForRollouts(rollouts []rollout.Rollout) error {
	for _, r := range rollouts {
		if r.Phase.IsFailure() {
			return &ExitError{Code: ExitFailure}
		}
	}
	return nil
}
