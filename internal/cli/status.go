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
	"k8s.io/apimachinery/pkg/labels"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics/promclient"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// StatusOptions are `kubectl pyroll status`'s.
type StatusOptions struct {
	*Options
	Name          string
	Output        string
	Watch         bool
	Timeout       time.Duration
	AllNamespaces bool
	Selector      string

	selector labels.Selector
	cluster  *kube.Cluster
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
	so := &StatusOptions{Options: o}
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
	cmd.Flags().BoolVarP(&so.AllNamespaces, "all-namespaces", "A", false, "rollouts in every namespace")
	cmd.Flags().StringVarP(&so.Selector, "selector", "l", "", "label selector for the Deployments (e.g. team=payments)")
	return cmd
}

// Complete fills in what the flags and arguments imply.
func (o *StatusOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return usageError("invalid --selector %q: %v", o.Selector, err)
	}
	o.selector = sel
	return nil
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
	if o.Name != "" && o.AllNamespaces {
		return usageError("a NAME and -A do not go together: name the namespace with -n")
	}
	if o.Timeout < 0 {
		return usageError("--timeout must not be negative")
	}
	return nil
}

// Run connects, waits for the informers to sync and prints, once or until settled.
func (o *StatusOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	timeout := connectTimeout
	if o.Timeout > 0 && (!o.Watch || o.Timeout < timeout) {
		timeout = o.Timeout
	}
	cluster, err := o.connect(ctx, timeout)
	if err != nil {
		return err
	}
	o.cluster = cluster
	namespace := cluster.Namespace
	if o.AllNamespaces {
		namespace = ""
	}

	var deadline <-chan time.Time
	switch {
	case o.Watch && o.Timeout > 0:
		deadline = time.After(o.Timeout)
	case !o.Watch:
		deadline = time.After(timeout)
	}
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapshots := kube.NewWatcher(cluster, kube.WatchOptions{Namespace: namespace, Selector: o.selector, Name: o.Name}).Run(watchCtx)
	printer := newStatusPrinter(o.Out, o.ErrOut, o.Output, o.AllNamespaces, cluster.Context, namespace)
	printer.thresholds = o.Config.Thresholds
	var prom *promclient.Client
	if o.Output != "table" {
		if prom, err = o.prometheus(cluster); err != nil {
			return err
		}
	}
	var metricsAt time.Time
	warned := map[string]bool{}
	// refreshMetrics reads the error rates at most once per --metrics-interval.
	refreshMetrics := func(rollouts []rollout.Rollout) {
		if prom == nil || time.Since(metricsAt) < o.MetricsInterval {
			return
		}
		metricsAt = time.Now()
		report := prom.Report(ctx, namespace, rollouts, metricsAt)
		if report.Err != nil {
			fmt.Fprintf(o.ErrOut, "warning: metrics: %v\n", report.Err)
		}
		for _, w := range report.Warnings {
			if !warned[w] { // once each, not every interval of a --watch
				warned[w] = true
				fmt.Fprintf(o.ErrOut, "warning: metrics: %s\n", w)
			}
		}
		printer.metrics = report
	}

	var lastState rollout.ConnState
	for {
		select {
		case <-ctx.Done():
			return &ExitError{Code: ExitFailure, Err: errors.New("interrupted")}
		case <-deadline:
			if o.Watch {
				return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s before every rollout settled", o.Timeout)}
			}
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("no complete answer from the API server at %s within %s", cluster.Config.Host, connectTimeout)}
		case snap, ok := <-snapshots:
			if !ok {
				return &ExitError{Code: ExitFailure, Err: errors.New("interrupted")}
			}
			if snap.Conn.State == rollout.ConnForbidden {
				return fmt.Errorf("%s; status needs list and watch on deployments, replicasets and pods: ask for them, or pick a namespace you can read with -n", snap.Conn.Message)
			}
			// A watch reports losing and regaining the connection; syncing->live is no news.
			if o.Watch && snap.Conn.State != lastState && (snap.Conn.State == rollout.ConnReconnecting || lastState == rollout.ConnReconnecting) {
				printer.state(snap.Conn)
			}
			lastState = snap.Conn.State
			if !snap.Synced {
				continue
			}
			rollouts := snap.Rollouts
			if o.Name != "" && len(rollouts) == 0 {
				return fmt.Errorf("deployment %q not found in namespace %q", o.Name, namespace)
			}
			refreshMetrics(rollouts)
			if !o.Watch {
				if err := printer.all(rollouts, snap.At); err != nil {
					return err
				}
				return exitForRollouts(rollouts)
			}
			if err := printer.changes(rollouts, snap.At); err != nil {
				return err
			}
			if settled(rollouts) {
				return exitForRollouts(rollouts)
			}
		}
	}
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
