package cli

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/ui/app"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// ConsoleOptions are the console's (the root command's).
type ConsoleOptions struct {
	*Options
	Name          string
	AllNamespaces bool
	Selector      string
	AutoHalt      bool
	AutoHaltAfter int
}

// Run authenticates, starts the watcher and runs the console until the user quits.
func (o *ConsoleOptions) Run(ctx context.Context, args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	if o.Name != "" && o.AllNamespaces {
		return usageError("a NAME and -A do not go together: name the namespace with -n")
	}
	selector, err := labels.Parse(o.Selector)
	if err != nil {
		return usageError("invalid --selector %q: %v", o.Selector, err)
	}
	if o.AutoHalt && !o.hasPrometheus() {
		return usageError("--auto-halt needs error rates: give --prometheus-url, --prometheus-service or a config file that names Prometheus")
	}
	if o.AutoHalt && o.ReadOnly {
		return usageError("--auto-halt and --read-only contradict each other")
	}
	if !isTerminal(o.Out) || !isTerminal(o.In) {
		return errors.New("the console needs a terminal; in scripts use 'kubectl pyroll status' (see --help)")
	}
	cluster, err := o.connect(ctx, connectTimeout)
	if err != nil {
		return err
	}
	namespace := cluster.Namespace
	if o.AllNamespaces {
		namespace = ""
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapshots := kube.NewWatcher(cluster, kube.WatchOptions{Namespace: namespace, Selector: selector}).Run(ctx)
	actor := actions.Service{
		Driver: &actions.Driver{Client: cluster.Client, User: actions.WhoAmI(ctx, cluster.Client, cluster.User)},
		Access: &actions.Access{Client: cluster.Client, ReadOnly: o.ReadOnly},
	}
	var source app.MetricsSource
	client, err := o.prometheus(cluster)
	if err != nil {
		return err
	}
	if client != nil {
		source = client
	}
	return app.Run(ctx, app.Options{
		Styles:    styles.New(styles.Options{Color: o.colorEnabled(), ASCII: o.ASCII}),
		Context:   cluster.Context,
		Namespace: namespace,
		Open:      o.Name,
		Snapshots: snapshots,
		Now:       time.Now(),
		Actor:     actor,
		Metrics:   source,

		MetricsInterval: o.MetricsInterval,
		AutoHalt:        o.AutoHalt,
		AutoHaltAfter:   o.AutoHaltAfter,
		Thresholds:      o.Config.Thresholds,
		Inspector:       inspector{cluster: cluster, thresholds: o.Config.Thresholds},
	}, o.In, o.Out)
}

func (o *Options) colorEnabled() bool {
	return !o.NoColor && os.Getenv("NO_COLOR") == ""
}

func isTerminal(stream any) bool {
	f, ok := stream.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
