package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// ActionOptions are halt's, promote's and rollback's.
type ActionOptions struct {
	*Options
	TargetOptions
	Action     intent.Action
	Reason     string
	ToRevision int64
	DryRun     string
	Yes        bool
	// Full (promote --full) skips an Argo Rollout's remaining steps.
	Full bool
	// HoldGitOps holds the rollout's GitOps owner first (Argo CD auto-sync off, Flux
	// suspended) where it would undo the halt or the rollback; Force acts anyway.
	HoldGitOps, Force bool
}

func newActionCommand(o *Options, action intent.Action) *cobra.Command {
	ao := &ActionOptions{Options: o, Action: action}
	cmd := &cobra.Command{
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ao.Complete(args); err != nil {
				return err
			}
			if err := ao.Validate(); err != nil {
				return err
			}
			return ao.Run(cmd.Context())
		},
	}
	switch action {
	case intent.Halt:
		cmd.Use = "halt NAME"
		cmd.Short = "Stop a rollout at once: pause a Deployment, abort an Argo Rollout"
		cmd.Long = `Stop the rollout of NAME where it stands. The emergency brake, so it asks no
confirmation; idempotent: halting a halted rollout says so and succeeds.
  Deployment: spec.paused=true; no more pods are replaced; promote resumes it.
  Argo Rollout (rollout/NAME): abort (status.abort=true on the rollouts/status
  subresource): traffic goes back to the stable revision at once and the canary is
  scaled down; promote then offers a retry.
Records who, when and why in the annotation pyroll.dev/last-action and a PyrollHalt
Event on the object.`
	case intent.Promote:
		cmd.Use = "promote NAME"
		cmd.Short = "Resume a halted rollout, or move an Argo Rollout past its pause"
		cmd.Long = `Promote NAME.
  Deployment: resume a halted rollout (spec.paused=false). One that is not halted has
  nothing to promote (exit 0, said so).
  Argo Rollout (rollout/NAME): what 'kubectl argo rollouts promote' does: clear the pause
  (unpause a paused spec, clear pause conditions, step past an inconclusive or running
  analysis), on the rollouts/status subresource. --full skips every remaining step.
  On an aborted rollout argo's promote does nothing: this asks whether to retry it
  instead (roll the new revision out again from the first step); --yes retries without
  asking.
Records pyroll.dev/last-action and a PyrollPromote (PyrollRetry) Event.`
		cmd.Flags().BoolVar(&ao.Full, "full", false, "Argo Rollouts: skip the remaining steps, analysis and pauses (promote fully)")
		cmd.Flags().BoolVarP(&ao.Yes, "yes", "y", false, "do not ask for confirmation (of a retry)")
	case intent.Rollback:
		cmd.Use = "rollback NAME"
		cmd.Short = "Roll back to the previous known-good revision (or --to-revision N)"
		cmd.Long = `Roll NAME back to the previous known-good revision (the stable one: the newest
older revision still serving) or to --to-revision N.
  Deployment: as 'kubectl rollout undo' does: the revision's pod template is written
  back into the Deployment, resuming a halted rollout in the same request.
  Argo Rollout (rollout/NAME): undo: the revision's template is written into the
  Rollout and rolls out as a new revision (through the steps). A Rollout that takes its
  template from a Deployment (workloadRef) is refused: roll that Deployment back.
Either way in one request guarded by resourceVersion (a newer edit is never
overwritten; argo's own undo has no such guard). Every ReplicaSet is kept. Asks for
confirmation, showing what changes (revision, image, git SHA), unless --yes. Records
kubernetes.io/change-cause, pyroll.dev/last-action and a PyrollRollback Event.`
		cmd.Flags().Int64Var(&ao.ToRevision, "to-revision", 0, "the revision to roll back to (default: the previous known-good one)")
		cmd.Flags().BoolVarP(&ao.Yes, "yes", "y", false, "do not ask for confirmation")
	}
	if action == intent.Halt || action == intent.Rollback {
		cmd.Long += `

Under GitOps (Argo CD, Flux, Helm), the owner may put back what this writes: Flux
removes a halt at its next reconcile, Argo CD's self-heal undoes a rollback within
seconds, the next helm upgrade reverts (Helm 3) or conflicts (Helm 4). Where the owner
would undo it, this refuses and says why, unless --hold-gitops (hold the owner first,
recorded with the action; give it back with 'kubectl pyroll release-hold NAME' once Git
or the chart says the same) or --force (act anyway; the owner will undo it).`
		cmd.Flags().BoolVar(&ao.HoldGitOps, "hold-gitops", false, "hold the GitOps owner first (Argo CD auto-sync off, Flux suspended) where it would undo this")
		cmd.Flags().BoolVar(&ao.Force, "force", false, "act even where the GitOps owner will undo it")
		cmd.MarkFlagsMutuallyExclusive("hold-gitops", "force")
	}
	cmd.Long += "\n\nExit codes: 0 done (or nothing to do), 1 refused or failed (nothing changed), 2 usage error."
	cmd.Example = fmt.Sprintf("  kubectl pyroll %s orders-api -n shop --reason \"5xx on checkout\"\n  kubectl pyroll %s rollout/checkout-api -n shop", action, action)
	cmd.Flags().StringVar(&ao.Reason, "reason", "", "why, for the audit record")
	cmd.Flags().StringVar(&ao.DryRun, "dry-run", "none", `"server": let the API server check the change without making it, and print it`)
	return cmd
}

// validateDryRun checks a writing command's --dry-run.
func validateDryRun(value string) error {
	switch value {
	case "none", "server":
		return nil
	case "client":
		return usageError("--dry-run=client is not supported: use --dry-run=server, which checks the change with the API server")
	}
	return usageError("--dry-run must be server or none, not %q", value)
}

// actionService connects, resolves the command's NAME and returns the actions service that
// writes it, as the user the API server knows (read-only with --read-only).
func (o *Options) actionService(ctx context.Context, t *TargetOptions, dryRun bool) (actions.Service, ref.Rollout, error) {
	cluster, err := o.connect(ctx, connectTimeout)
	if err != nil {
		return actions.Service{}, ref.Rollout{}, err
	}
	target, err := t.resolve(ctx, cluster)
	if err != nil {
		return actions.Service{}, ref.Rollout{}, err
	}
	driver := &actions.Driver{Client: cluster.Client, User: actions.WhoAmI(ctx, cluster.Client, cluster.User), DryRun: dryRun,
		Owners: kube.NewOwnerReader(cluster.Client, kube.OwnerReaderOptions{})}
	return actions.Service{Driver: driver, Access: &actions.Access{Client: cluster.Client, ReadOnly: o.ReadOnly}}, target, nil
}

// Validate checks the flags.
func (o *ActionOptions) Validate() error {
	if err := validateDryRun(o.DryRun); err != nil {
		return err
	}
	if o.ToRevision < 0 {
		return usageError("--to-revision must be a positive revision number")
	}
	if o.ReadOnly {
		return fmt.Errorf("%s refused: --read-only is set", o.Action)
	}
	return nil
}

// Run plans, confirms when needed, and applies.
func (o *ActionOptions) Run(ctx context.Context) error {
	svc, target, err := o.actionService(ctx, &o.TargetOptions, o.DryRun == "server")
	if err != nil {
		return err
	}
	driver := svc.Driver
	action := o.Action
	if o.Full {
		action = intent.PromoteFull
	}
	req := intent.Request{Action: action, Target: target, Reason: o.Reason, ToRevision: o.ToRevision, HoldOwner: o.HoldGitOps}
	plan, err := svc.Plan(ctx, req)
	if err != nil {
		return err
	}
	if plan.Noop {
		fmt.Fprintln(o.Out, plan.Message)
		return nil
	}
	if err := o.checkOwner(plan); err != nil {
		return err
	}
	var answers *bufio.Reader
	for {
		// A rollback, and a promote that turned out to be a retry, are not trivially reversible.
		asked := (plan.Action == intent.Rollback || plan.Action == intent.Retry) && !o.Yes && !driver.DryRun
		if asked {
			if !isTerminal(o.In) {
				return usageError("%s; not a terminal to confirm on: add --yes to %s anyway", plan.Message, plan.Action.Name(target.Kind))
			}
			if answers == nil {
				answers = bufio.NewReader(o.In)
			}
			fmt.Fprintf(o.ErrOut, "%s?  [y/N] ", question(plan))
			answer, _ := answers.ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				fmt.Fprintln(o.ErrOut, "Cancelled; nothing changed.")
				return nil
			}
		}
		result, err := svc.Apply(ctx, plan)
		var changed *intent.ChangedError
		if errors.As(err, &changed) && asked && !changed.Now.Noop {
			// What was confirmed no longer holds: ask about what would be written now.
			fmt.Fprintf(o.ErrOut, "%s/%s changed since you confirmed; nothing was written.\n", target.Namespace, target.Name)
			plan = changed.Now
			continue
		}
		if err != nil {
			return err
		}
		o.printResult(result, plan, driver.DryRun)
		return nil
	}
}

// checkOwner refuses a halt or a rollback the rollout's GitOps owner would undo, unless
// --hold-gitops or --force says what to do about it, and warns where it may.
func (o *ActionOptions) checkOwner(plan intent.Plan) error {
	note := plan.Owner
	switch {
	case note.Text == "":
		return nil
	case note.Undone() && !o.HoldGitOps && !o.Force:
		how := "--force to " + plan.Action.Name(plan.Target.Kind) + " anyway"
		if note.Holdable {
			how = fmt.Sprintf("--hold-gitops to %s first (give it back later with 'kubectl pyroll release-hold %s'), or %s", note.HoldWords, plan.Target.Name, how)
		}
		return fmt.Errorf("%s %s/%s refused: %s; add %s", plan.Action.Name(plan.Target.Kind), plan.Target.Namespace, plan.Target.Name, note.Text, how)
	case note.Undone() && o.HoldGitOps && !note.Holdable:
		return fmt.Errorf("%s %s/%s refused: %s, and it cannot be held from here; add --force to %s anyway", plan.Action.Name(plan.Target.Kind), plan.Target.Namespace, plan.Target.Name, note.Text, plan.Action.Name(plan.Target.Kind))
	case note.Undone() && o.Force:
		fmt.Fprintf(o.ErrOut, "warning: %s (--force)\n", note.Text)
	case !note.Undone():
		fmt.Fprintf(o.ErrOut, "note: %s\n", note.Text)
	}
	return nil
}

// question is the confirmation's text: the plan, and what the owner will do.
func question(plan intent.Plan) string {
	q := plan.Message.String()
	if plan.Owner.Text != "" {
		if plan.HoldOwner && plan.Owner.Holdable {
			return fmt.Sprintf("%s (%s; it will be held first)", q, plan.Owner.Text)
		}
		return fmt.Sprintf("%s (%s)", q, plan.Owner.Text)
	}
	return q
}

// printResult says what an action did (and, for a dry run, the builds it would move between).
func (o *ActionOptions) printResult(result intent.Result, plan intent.Plan, dryRun bool) {
	fmt.Fprintln(o.Out, result.Message)
	if result.Held != "" {
		fmt.Fprintf(o.Out, "  %s held first; once Git (or the chart) says the same, give it back: kubectl pyroll release-hold %s -n %s\n", result.Held, plan.Target.Name, plan.Target.Namespace)
	}
	if dryRun {
		fmt.Fprintf(o.Out, "  from rev %d: %s\n  to   rev %d: %s\n", plan.From.Revision, buildLine(plan.From), plan.To.Revision, buildLine(plan.To))
	}
	if result.Warning != "" {
		fmt.Fprintln(o.ErrOut, "warning: "+result.Warning)
	}
}

func buildLine(b intent.Build) string {
	parts := []safetext.Text{"image " + orNone(b.Image), "sha " + orNone(b.GitSHA)}
	if b.Version != "" {
		parts = append(parts, "version "+b.Version)
	}
	if b.LockHash != "" {
		parts = append(parts, "lock "+b.LockHash)
	}
	return safetext.Join(parts, ", ").String()
}

func orNone(s safetext.Text) safetext.Text {
	if s == "" {
		return "(none)"
	}
	return s
}
