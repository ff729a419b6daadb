package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// ScopeOptions select the rollouts a watching command (the console, status) works on:
// one by NAME, or every one in the namespace (-n) or in all of them (-A), narrowed by a
// label selector (-l). Embedded by each such command; Complete then Validate.
type ScopeOptions struct {
	AllNamespaces bool
	Selector      string
	// WatchOnlyNamed narrows the watch to NAME (status); the console watches the whole
	// namespace and opens NAME in it.
	WatchOnlyNamed bool
	// Contexts (--contexts: names or /regex/) and AllContexts (--all-contexts) put several
	// clusters in view, each with its own namespace (-n for all, else its kubeconfig's).
	Contexts    []string
	AllContexts bool

	// Set by Complete.
	selector labels.Selector
	// target is NAME as given: its Kind is "" unless qualified (deployment/NAME).
	target ref.Rollout
}

// AddFlags adds -A and -l.
func (s *ScopeOptions) AddFlags(flags *pflag.FlagSet) {
	flags.BoolVarP(&s.AllNamespaces, "all-namespaces", "A", false, "rollouts in every namespace")
	flags.StringVarP(&s.Selector, "selector", "l", "", "label selector for the rollouts (e.g. team=payments)")
	flags.StringSliceVar(&s.Contexts, "contexts", nil, "several clusters at once: kubeconfig contexts by name or /regex/, comma-separated (e.g. prod-eu,prod-us or /^prod-/)")
	flags.BoolVar(&s.AllContexts, "all-contexts", false, "every context of the kubeconfig at once")
}

// severalContexts says whether --contexts or --all-contexts was given.
func (s *ScopeOptions) severalContexts() bool { return len(s.Contexts) > 0 || s.AllContexts }

// Complete reads NAME (at most one argument) and the selector.
func (s *ScopeOptions) Complete(args []string) error {
	if len(args) == 1 {
		kind, name, err := ref.ParseArg(args[0])
		if err != nil {
			return usageError("%v", err)
		}
		s.target = ref.Rollout{Kind: kind, Name: name}
	}
	sel, err := labels.Parse(s.Selector)
	if err != nil {
		return usageError("invalid --selector %q: %v", s.Selector, err)
	}
	s.selector = sel
	return nil
}

// Validate rejects what cannot go together.
func (s *ScopeOptions) Validate() error {
	if s.target.Name != "" && s.AllNamespaces {
		return usageError("a NAME and -A do not go together: name the namespace with -n")
	}
	if len(s.Contexts) > 0 && s.AllContexts {
		return usageError("--contexts and --all-contexts do not go together: give one")
	}
	return nil
}

// namespace is where to look on this cluster: "" for all namespaces.
func (s *ScopeOptions) namespace(cluster *kube.Cluster) string {
	if s.AllNamespaces {
		return ""
	}
	return cluster.Namespace
}

// named is NAME with the namespace it is looked for in (Kind "" when not qualified).
func (s *ScopeOptions) named(cluster *kube.Cluster) ref.Rollout {
	t := s.target
	if t.Name != "" {
		t.Namespace = cluster.Namespace
	}
	return t
}

// watch starts the watcher on the scope; the channel closes when ctx ends.
func (s *ScopeOptions) watch(ctx context.Context, cluster *kube.Cluster, notReadyGrace, bakeTime time.Duration) <-chan rollout.Snapshot {
	opts := kube.WatchOptions{Namespace: s.namespace(cluster), Selector: s.selector, NotReadyGrace: notReadyGrace, BakeTime: bakeTime}
	if s.WatchOnlyNamed {
		opts.Name, opts.Kind = s.target.Name, s.target.Kind
	}
	return kube.NewWatcher(cluster, opts).Run(ctx)
}

// TargetOptions name the one rollout a command reads or acts on: NAME, or NAME
// qualified by its kind (deployment/NAME) when a bare one would be ambiguous.
type TargetOptions struct {
	target ref.Rollout
}

// Complete reads NAME (exactly one argument: the command's Args checks the count).
func (t *TargetOptions) Complete(args []string) error {
	kind, name, err := ref.ParseArg(args[0])
	if err != nil {
		return usageError("%v", err)
	}
	t.target = ref.Rollout{Kind: kind, Name: name}
	return nil
}

// resolve is the rollout in the cluster's namespace, its kind found when not given.
func (t *TargetOptions) resolve(ctx context.Context, cluster *kube.Cluster) (ref.Rollout, error) {
	target := t.target
	target.Namespace = cluster.Namespace
	return kube.Resolve(ctx, cluster.Client, target)
}

// runnable is a command's options in kubectl's pattern.
type runnable interface {
	Complete(args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// completeValidateRun is the RunE of a command whose options follow kubectl's pattern.
func completeValidateRun(o runnable) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}
