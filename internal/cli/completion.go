package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// completionTimeout bounds every lookup a <TAB> makes: a shell must never hang on an
// unreachable server or an exec credential plugin that waits for a login.
const completionTimeout = 3 * time.Second

// withCompletionCluster runs lookup against the cluster kubectl's flags (as typed so far)
// name, within completionTimeout; on any failure or at the timeout, no suggestions and no
// error text (the shell shows nothing rather than noise).
func (o *Options) withCompletionCluster(lookup func(ctx context.Context, cluster *kube.Cluster) []string) []string {
	done := make(chan []string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	go func() {
		cluster, err := kube.Connect(o.KubeFlags)
		if err != nil {
			done <- nil
			return
		}
		done <- lookup(ctx, cluster)
	}()
	select {
	case names := <-done:
		return names
	case <-ctx.Done():
		return nil // the lookup may still be stuck (an exec plugin): the process ends anyway
	}
}

// completeRolloutNames completes the first argument with the rollouts of the namespace
// (-n, else the kubeconfig's): their names, or TYPE/NAME once the user typed a kind.
func (o *Options) completeRolloutNames(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	prefix, typed, kind := "", toComplete, ref.Kind("")
	if word, name, qualified := strings.Cut(toComplete, "/"); qualified {
		var err error
		if kind, _, err = ref.ParseArg(word + "/x"); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		prefix, typed = word+"/", name
	}
	names := o.withCompletionCluster(func(ctx context.Context, cluster *kube.Cluster) []string {
		var out []string
		seen := map[string]bool{}
		add := func(name string) {
			if !seen[name] {
				seen[name] = true
				out = append(out, prefix+name)
			}
		}
		if kind == "" || kind == ref.Deployment {
			if list, err := cluster.Client.Deployments(cluster.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
				for _, d := range list.Items {
					add(d.Name)
				}
			}
		}
		if kind == "" || kind == ref.ArgoRollout {
			// A cluster without Argo Rollouts answers 404 at once.
			if list, err := cluster.Client.Rollouts(cluster.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
				for _, r := range list.Items {
					add(r.Name)
				}
			}
		}
		slices.Sort(out)
		return out
	})
	return withPrefix(names, prefix+typed), cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces completes -n from the API server, else from the kubeconfig's contexts.
func (o *Options) completeNamespaces(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	names := o.withCompletionCluster(func(ctx context.Context, cluster *kube.Cluster) []string {
		list, err := cluster.Client.Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil
		}
		out := make([]string, 0, len(list.Items))
		for _, ns := range list.Items {
			out = append(out, ns.Name)
		}
		return out
	})
	if names == nil {
		if raw, err := o.KubeFlags.ClientConfig().RawConfig(); err == nil {
			for _, c := range raw.Contexts {
				if c.Namespace != "" && !slices.Contains(names, c.Namespace) {
					names = append(names, c.Namespace)
				}
			}
		}
	}
	return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeKubeconfig completes --context, --cluster or --user from the kubeconfig (no
// server needed).
func (o *Options) completeKubeconfig(what string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		raw, err := o.KubeFlags.ClientConfig().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		switch what {
		case "context":
			for name := range raw.Contexts {
				names = append(names, name)
			}
		case "cluster":
			for name := range raw.Clusters {
				names = append(names, name)
			}
		case "user":
			for name := range raw.AuthInfos {
				names = append(names, name)
			}
		}
		return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRevisions completes rollback's --to-revision with the rollout's revisions, each
// described by its build (SHA, version).
func (o *Options) completeRevisions(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	kind, name, err := ref.ParseArg(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := o.withCompletionCluster(func(ctx context.Context, cluster *kube.Cluster) []string {
		target, err := kube.Resolve(ctx, cluster.Client, ref.Rollout{Kind: kind, Namespace: cluster.Namespace, Name: name})
		if err != nil {
			return nil
		}
		h, err := readHistory(ctx, cluster, target, time.Now())
		if err != nil {
			return nil
		}
		var out []string
		for _, rev := range h.Rollout.Revisions {
			number := fmt.Sprint(rev.Number)
			if rev.Number == 0 || !strings.HasPrefix(number, toComplete) {
				continue
			}
			desc := strings.TrimSpace(fmt.Sprintf("%s %s %s", rev.Role, rev.Provenance.ShortSHA(), rev.Provenance.Version))
			out = append(out, cobra.CompletionWithDesc(number, desc))
		}
		return out
	})
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// fixedChoices completes a flag from a fixed list (e.g. -o's formats).
func fixedChoices(choices ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp)
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// registerCompletions wires every command's argument and flag completion.
func registerCompletions(root *cobra.Command, o *Options) {
	flags := root.PersistentFlags()
	for flag, fn := range map[string]cobra.CompletionFunc{
		"namespace": o.completeNamespaces,
		"context":   o.completeKubeconfig("context"),
		"cluster":   o.completeKubeconfig("cluster"),
		"user":      o.completeKubeconfig("user"),
	} {
		if flags.Lookup(flag) != nil {
			_ = root.RegisterFlagCompletionFunc(flag, fn)
		}
	}
	root.ValidArgsFunction = o.completeRolloutNames
	_ = root.RegisterFlagCompletionFunc("contexts", o.completeContextList)
	for _, sub := range root.Commands() {
		if sub.Name() == "status" {
			_ = sub.RegisterFlagCompletionFunc("contexts", o.completeContextList)
		}
		switch sub.Name() {
		case "status", "halt", "promote", "rollback", "release-hold", "history", "diff", "snapshot", "guard":
			sub.ValidArgsFunction = o.completeRolloutNames
		}
		formats := map[string][]string{
			"status": {"table", "json", "ndjson"}, "history": {"table", "json"}, "diff": {"text", "json"},
			"guard": {"text", "json"}, "version": {"json"},
		}
		if choices, ok := formats[sub.Name()]; ok && sub.Flags().Lookup("output") != nil {
			_ = sub.RegisterFlagCompletionFunc("output", fixedChoices(choices...))
		}
		if sub.Name() == "rollback" {
			_ = sub.RegisterFlagCompletionFunc("to-revision", o.completeRevisions)
		}
		if sub.Name() == "guard" {
			_ = sub.RegisterFlagCompletionFunc("action", fixedChoices("halt", "rollback"))
		}
	}
}

// completeContextList completes --contexts a,b,…: the contexts not named yet after the
// last comma, each with what is before it.
func (o *Options) completeContextList(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	names, directive := o.completeKubeconfig("context")(cmd, args, last)
	named := strings.Split(done, ",")
	var out []cobra.Completion
	for _, n := range names {
		if !slices.Contains(named, n) {
			out = append(out, done+n)
		}
	}
	return out, directive | cobra.ShellCompDirectiveNoSpace
}

// kubectlShim is kubectl_complete-pyroll: kubectl (1.26 and later) runs it from PATH to
// complete `kubectl pyroll ...`.
const kubectlShim = `#!/usr/bin/env sh
# kubectl runs this to complete 'kubectl pyroll ...' (kubectl 1.26+): put it on PATH.
exec kubectl-pyroll __complete "$@"
`

// addKubectlCompletion adds `completion kubectl` beside cobra's bash, zsh, fish and
// powershell: it prints the shim.
func addKubectlCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Long += "\n\nFor 'kubectl pyroll <TAB>', put the shim that 'kubectl-pyroll completion kubectl' prints on\nyour PATH as kubectl_complete-pyroll (executable); kubectl 1.26+ runs it."
		c.AddCommand(&cobra.Command{
			Use:   "kubectl",
			Short: "Print kubectl_complete-pyroll, the shim kubectl runs to complete 'kubectl pyroll'",
			Long: `Print kubectl_complete-pyroll: kubectl (1.26 and later) completes a plugin's arguments by
running kubectl_complete-<plugin> from PATH. Install it next to kubectl-pyroll:

  kubectl-pyroll completion kubectl > ~/.local/bin/kubectl_complete-pyroll
  chmod +x ~/.local/bin/kubectl_complete-pyroll`,
			Args: usageArgs(cobra.NoArgs),
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprint(cmd.OutOrStdout(), kubectlShim)
				return err
			},
		})
	}
}
