// Package cli holds kubectl-pyroll's commands: the console (root) and the subcommands for
// scripts. Each command follows kubectl's Options pattern: Complete, Validate, Run.
package cli

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/pyroll/kubectl-pyroll/internal/config"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Options are shared by every command: kubectl's connection flags and the I/O streams.
type Options struct {
	KubeFlags *kube.Flags
	genericiooptions.IOStreams
	// NoColor and ASCII change how the console draws (also NO_COLOR).
	NoColor bool
	ASCII   bool
	// ReadOnly disables every action (halt, promote, rollback), in the console and out.
	ReadOnly bool
	// PrometheusURL is where error rates come from (also PYROLL_PROMETHEUS_URL).
	PrometheusURL string
	// PrometheusService reaches Prometheus through the API server: NAMESPACE/NAME:PORT.
	PrometheusService string
	MetricsInterval   time.Duration
	// NotReadyGrace is how long a canary pod may stay not ready before its rollout counts
	// as Degraded.
	NotReadyGrace time.Duration
	// BakeTime is the bake window of a release without the pyroll.dev/bake-time
	// annotation: $PYROLL_BAKE_TIME, else the config file's bake.time, else 15m.
	BakeTime time.Duration
	// ConfigPath is --config; Config is the file read from it (or the default path).
	ConfigPath string
	Config     config.Config
}

// BakeTimeEnv sets the bake time of releases without the pyroll.dev/bake-time annotation
// ("0": none), over the config file's.
const BakeTimeEnv = "PYROLL_BAKE_TIME"

// NewOptions returns Options reading kubectl's flags and writing to streams.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{KubeFlags: kube.NewFlags(), IOStreams: streams}
}

const rootLong = `kubectl pyroll: the rollout console for Python services on Kubernetes.

It shows what is rolling out, whether its pods are healthy (CrashLoopBackOff,
OOMKilled, the Python exception of a crashing pod), how its error rate and latency
compare with the stable revision, and exactly which build each revision runs; then it
halts, promotes or rolls back with one key.

Without a command it opens the console on the current namespace (-A: all of them);
with NAME it opens that rollout. Keys: up/down (j/k) move, enter opens, esc goes back,
/ filters; on a rollout h halts, p promotes, r rolls back, d shows what changed, l shows
the logs of its most troubled pod, x writes an incident snapshot; ? shows every key,
q quits.

It takes kubectl's usual flags (--kubeconfig, --context, -n, --as, ...) and works as
a kubectl plugin: put kubectl-pyroll on your PATH and run 'kubectl pyroll'.

Several clusters at once: --contexts eu,us (names or /regex/) or --all-contexts; each
rollout's row says its context, every action goes to its own cluster, c groups one
rollout's rows across clusters.`

// NewRootCommand builds the kubectl-pyroll command tree.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	console := &ConsoleOptions{Options: o}
	cmd := &cobra.Command{
		Use:   "kubectl-pyroll [NAME]",
		Short: "Roll out Python services on Kubernetes: see, halt, promote, roll back",
		Long:  rootLong,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl pyroll",
		},
		Example: `  kubectl pyroll                  # the console on the current namespace
  kubectl pyroll -n shop orders-api   # straight to one rollout
  kubectl pyroll -A -l team=payments  # every namespace, one team's Deployments
  kubectl pyroll -n shop --contexts prod-eu,prod-us  # one namespace in two clusters`,
		Args:          usageArgs(cobra.MaximumNArgs(1)),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          completeValidateRun(console),
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v\nSee '%s --help'.", err, c.CommandPath())
	})
	o.KubeFlags.AddFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().BoolVar(&o.NoColor, "no-color", false, "draw without colours (also when NO_COLOR is set)")
	cmd.PersistentFlags().BoolVar(&o.ASCII, "ascii", false, "draw with ASCII only: no Unicode glyphs")
	cmd.PersistentFlags().BoolVar(&o.ReadOnly, "read-only", false, "never change anything: halt, promote and rollback are disabled")
	cmd.PersistentFlags().StringVar(&o.PrometheusURL, "prometheus-url", os.Getenv("PYROLL_PROMETHEUS_URL"), "Prometheus to read error rates and latency from (default $PYROLL_PROMETHEUS_URL)")
	// Its default is the environment's URL, which may carry a password or a token: --help
	// does not print it (the usage names the variable instead).
	cmd.PersistentFlags().Lookup("prometheus-url").DefValue = ""
	cmd.PersistentFlags().StringVar(&o.PrometheusService, "prometheus-service", "", "reach Prometheus through the API server's service proxy, as NAMESPACE/NAME:PORT (for hosts that reach only the API server)")
	cmd.PersistentFlags().DurationVar(&o.MetricsInterval, "metrics-interval", 10*time.Second, "how often to read the metrics")
	cmd.PersistentFlags().DurationVar(&o.NotReadyGrace, "not-ready-grace", rollout.NotReadyGrace, "how long a new revision's pod may stay not ready (no other failure) before its rollout is Degraded")
	cmd.PersistentFlags().StringVar(&o.ConfigPath, "config", "", "config file (default $PYROLL_CONFIG, else "+configDefaultHint()+")")
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if c.Name() == "version" || c.HasParent() && c.Parent().Name() == "completion" {
			return nil // a broken config file must not hide the version or break a shell's set-up
		}
		return o.loadConfig(c.Flags().Changed("metrics-interval"))
	}
	console.ScopeOptions.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&console.AutoHalt, "auto-halt", false, "halt a rollout whose canary breaches its thresholds (pyroll.dev/max-error-rate, max-p95-latency) for --auto-halt-after rounds in a row; only while this console runs: 'kubectl pyroll guard' is the guardrail that outlives it")
	cmd.Flags().IntVar(&console.AutoHaltAfter, "auto-halt-after", 3, "consecutive breaching metric rounds before --auto-halt halts")
	cmd.Flags().StringVar(&console.AutoAction, "auto-action", "halt", "what --auto-halt does: halt (a release in its bake window, already complete, is only shown in BREACH) or rollback (also rolls a breaching release in its bake window back to the revision before it)")
	cmd.AddCommand(newStatusCommand(o),
		newActionCommand(o, intent.Halt), newActionCommand(o, intent.Promote), newActionCommand(o, intent.Rollback), newReleaseHoldCommand(o),
		newHistoryCommand(o), newDiffCommand(o), newSnapshotCommand(o), newGuardCommand(o), newServeCommand(o), newVersionCommand(o))
	registerCompletions(cmd, o)
	addKubectlCompletion(cmd)
	return cmd
}

// configDefaultHint is the default config path with the home directory as ~.
func configDefaultHint() string {
	path := config.DefaultPath()
	if home, err := os.UserHomeDir(); err == nil && home != "" && strings.HasPrefix(path, home) {
		return "~" + strings.TrimPrefix(path, home)
	}
	return path
}

// connectTimeout bounds the first contact with the API server (authentication included).
const connectTimeout = 30 * time.Second

// connect builds the client from kubectl's flags and authenticates now, while the
// terminal is still a plain terminal: an exec credential plugin may prompt, and must not
// write over a full-screen console.
func (o *Options) connect(ctx context.Context, timeout time.Duration) (*kube.Cluster, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cluster, err := kube.Connect(o.KubeFlags)
	if err != nil {
		return nil, err
	}
	if err := cluster.Preflight(ctx, timeout); err != nil {
		return nil, err
	}
	return cluster, nil
}
