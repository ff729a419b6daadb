package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
)

// ReleaseHoldOptions are release-hold's.
type ReleaseHoldOptions struct {
	*Options
	TargetOptions
	Reason string
	DryRun string
}

func newReleaseHoldCommand(o *Options) *cobra.Command {
	ro := &ReleaseHoldOptions{Options: o}
	cmd := &cobra.Command{
		Use:   "release-hold NAME",
		Short: "Give a rollout's GitOps owner back after a held halt or rollback",
		Long: `Give back the GitOps owner (Argo CD, Flux, Helm) that a halt or rollback with
--hold-gitops (or the h and r keys, or the guard) held, once Git or the chart says what
should run:
  Argo CD app: its automated sync policy is put back exactly as it was before the hold.
  Flux Kustomization or HelmRelease: resumed (spec.suspend=false, as 'flux resume').
  Helm release: kubectl-pyroll's ownership of the fields it wrote (its managedFields
  entry) is dropped, so the next helm upgrade applies cleanly instead of conflicting.
Refuses when the owner changed since the hold (someone turned auto-sync back on, or
resumed it): theirs is kept. Records a PyrollReleaseHold Event on both objects.

Exit codes: 0 released (or nothing held, said so), 1 refused or failed (nothing changed), 2 usage error.`,
		Example: "  kubectl pyroll release-hold orders-api -n shop --reason \"2.0.1 merged\"",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE:    completeValidateRun(ro),
	}
	cmd.Flags().StringVar(&ro.Reason, "reason", "", "why, for the audit record")
	cmd.Flags().StringVar(&ro.DryRun, "dry-run", "none", `"server": let the API server check the change without making it`)
	return cmd
}

// Validate checks the flags.
func (o *ReleaseHoldOptions) Validate() error {
	if err := validateDryRun(o.DryRun); err != nil {
		return err
	}
	if o.ReadOnly {
		return fmt.Errorf("release-hold refused: --read-only is set")
	}
	return nil
}

// Run gives the owner back.
func (o *ReleaseHoldOptions) Run(ctx context.Context) error {
	svc, target, err := o.actionService(ctx, &o.TargetOptions, o.DryRun == "server")
	if err != nil {
		return err
	}
	released, err := svc.ReleaseHold(ctx, target, o.Reason)
	if errors.Is(err, actions.ErrNothingHeld) {
		fmt.Fprintln(o.Out, err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, released)
	return nil
}
