package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// SnapshotOptions are `kubectl pyroll snapshot`'s.
type SnapshotOptions struct {
	*Options
	TargetOptions
	Dir string
}

func newSnapshotCommand(o *Options) *cobra.Command {
	so := &SnapshotOptions{Options: o}
	cmd := &cobra.Command{
		Use:   "snapshot NAME",
		Short: "Write an incident report of a rollout (Markdown) and print its path",
		Long: `Write what an incident channel needs about one rollout, at this moment, to a Markdown
file and print its path: phase and why, revisions with their builds (SHA, version, lock
hash, Python, image and digest), what changed from the stable revision to the canary,
error rates, latency and the guard's verdict (with Prometheus configured), pods with
their reasons and Python exceptions, recent events and the last action.

In the console, x does the same and also copies the report to the clipboard.`,
		Example: `  kubectl pyroll snapshot search-api -n shop
  kubectl pyroll snapshot search-api --dir /tmp/incident-4211`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := so.Complete(args); err != nil {
				return err
			}
			return so.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&so.Dir, "dir", ".", "directory to write the report in")
	return cmd
}

// Run reads the rollout (and its metrics), writes the report and prints its path.
func (o *SnapshotOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cluster, err := o.connect(ctx, connectTimeout)
	if err != nil {
		return err
	}
	prom, err := o.prometheus(cluster)
	if err != nil {
		return err
	}
	target, err := o.resolve(ctx, cluster)
	if err != nil {
		return err
	}
	evidence, err := incidentEvidence(ctx, cluster, target, metrics.Report{}, o.Config.Thresholds)
	if err != nil {
		return err
	}
	if prom != nil {
		evidence.Metrics = prom.Report(ctx, cluster.Namespace, []rollout.Rollout{evidence.Rollout}, time.Now())
	}
	path, err := incident.Write(o.Dir, evidence, incident.Markdown(evidence))
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, path)
	return nil
}
