// Package cli holds kubectl-pyroll's commands: the console (root) and the subcommands for
// scripts. Each command follows kubectl's Options pattern: Complete, Validate, Run.
package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Options are shared by every command: kubectl's connection flags and the I/O streams.
type Options struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
}

// NewOptions returns Options reading kubectl's flags and writing to streams.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{ConfigFlags: genericclioptions.NewConfigFlags(true), IOStreams: streams}
}

const rootLong = `kubectl pyroll: the rollout console for Python services on Kubernetes.

It shows what is rolling out, whether its pods are healthy (CrashLoopBackOff,
OOMKilled, the Python exception of a crashing pod), how its error rate and latency
compare with the stable revision, and exactly which build each revision runs; then it
halts, promotes or rolls back with one key.

It takes kubectl's usual flags (--kubeconfig, --context, -n, --as, ...) and works as
a kubectl plugin: put kubectl-pyroll on your PATH and run 'kubectl pyroll'.`

// NewRootCommand builds the kubectl-pyroll command tree.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "kubectl-pyroll",
		Short: "Roll out Python services on Kubernetes: see, halt, promote, roll back",
		Long:  rootLong,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl pyroll",
		},
		Args:          usageArgs(cobra.NoArgs),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v\nSee '%s --help'.", err, c.CommandPath())
	})
	o.ConfigFlags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(newStatusCommand(o), newVersionCommand(o))
	return cmd
}
