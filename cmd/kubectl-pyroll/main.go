// Command kubectl-pyroll is the rollout console; as a kubectl plugin it runs as `kubectl pyroll`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// exitHangup is the exit code after SIGHUP (128 + 1, as a shell reports it).
const exitHangup = 129

func main() {
	// The console runs for hours on shared jump hosts, holding a cluster's pods: collect
	// when the heap has grown by half rather than doubled (Go's default). At 10,000 pods
	// that keeps about 5 MB less resident, for GC work that only shows while pods churn.
	// GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(run())
}

// run runs the command, and on every way out (an error, a panic, SIGHUP) ends the processes
// it started (an exec credential plugin that hangs: client-go cannot stop one).
func run() (code int) {
	defer endChildren()
	defer func() {
		if r := recover(); r != nil {
			code = report(cli.PanicReport("kubectl-pyroll", r, debug.Stack()))
		}
	}()
	ctx, hungUp := hangup()
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := cli.NewRootCommand(streams).ExecuteContext(ctx)
	if hungUp() {
		return exitHangup // the terminal is gone: nobody reads an error
	}
	return report(err)
}

// report prints err (unless the command said what it had to already) and returns the exit
// code for it.
func report(err error) int { return reportTo(os.Stderr, err) }

func reportTo(w io.Writer, err error) int {
	var exit *cli.ExitError
	if err != nil && !(asExit(err, &exit) && exit.Err == nil) {
		// The API server's and Prometheus' words are in errors: printed as safetext makes
		// them, their own lines kept (a usage line, a crash report's second line).
		fmt.Fprintf(w, "error: %s\n", safetext.Block(err.Error()))
	}
	return cli.ExitCode(err)
}

func asExit(err error, target **cli.ExitError) bool {
	e, ok := err.(*cli.ExitError)
	*target = e
	return ok
}

// hangup returns a context that ends on SIGHUP (the SSH connection or the terminal went
// away; unless SIGHUP is ignored, as under nohup), and whether that happened. Should the
// command not end within hangupGrace after it, the process ends anyway.
func hangup() (context.Context, func() bool) {
	if signal.Ignored(syscall.SIGHUP) {
		return context.Background(), func() bool { return false }
	}
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	got := make(chan struct{})
	go func() {
		<-sig
		close(got)
		cancel()
		time.Sleep(hangupGrace)
		endChildren()
		os.Exit(exitHangup)
	}()
	return ctx, func() bool {
		select {
		case <-got:
			return true
		default:
			return false
		}
	}
}

// hangupGrace is how long the command may take to end after SIGHUP: the console ends at
// once; serve closes its sessions within 10 s.
const hangupGrace = 15 * time.Second
