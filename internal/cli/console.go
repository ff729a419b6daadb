package cli

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/ui/app"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// ConsoleOptions are the console's (the root command's).
type ConsoleOptions struct {
	*Options
	ScopeOptions
	AutoHalt      bool
	AutoHaltAfter int
}

// Validate rejects flag combinations that cannot work, before anything is started.
func (o *ConsoleOptions) Validate() error {
	if err := o.ScopeOptions.Validate(); err != nil {
		return err
	}
	if o.AutoHalt && !o.hasPrometheus() {
		return usageError("--auto-halt needs error rates: give --prometheus-url, --prometheus-service or a config file that names Prometheus")
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
	cluster, err := o.connect(ctx, connectTimeout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapshots := o.watch(ctx, cluster, o.NotReadyGrace)
	actor := actions.Service{
		Driver: &actions.Driver{Client: cluster.Client, User: actions.WhoAmI(ctx, cluster.Client, cluster.User)},
		Access: &actions.Access{Client: cluster.Client, ReadOnly: o.ReadOnly},
	}
	var feed app.MetricsFeed
	client, err := o.prometheus(cluster)
	if err != nil {
		return err
	}
	if client != nil {
		poller := &metrics.Poller{Source: client, Namespace: o.namespace(cluster), Interval: o.MetricsInterval}
		poller.Run(ctx)
		feed = poller
	}
	return app.Run(ctx, app.Options{
		Styles:    styles.New(styles.Options{Color: o.colorEnabled(), ASCII: o.ASCII}),
		Context:   cluster.Context,
		Namespace: o.namespace(cluster),
		Open:      o.named(cluster),
		Snapshots: snapshots,
		Now:       time.Now(),
		Actor:     actor,
		Metrics:   feed,

		AutoHalt:      o.AutoHalt,
		AutoHaltAfter: o.AutoHaltAfter,
		Thresholds:    o.Config.Thresholds,
		Inspector:     inspector{cluster: cluster, thresholds: o.Config.Thresholds},
	}, o.In, o.Out)
}

func (o *Options) colorEnabled() bool {
	return !o.NoColor && os.Getenv("NO_COLOR") == ""
}

func isTerminal(stream any) bool {
	f, ok := stream.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
