package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/version"
	"github.com/pyroll/kubectl-pyroll/ui/app"
)

// Exit codes, as documented in `kubectl pyroll status --help` and the README.
const (
	ExitOK      = 0
	ExitFailure = 1 // a rollout shown is Failed or Degraded, or the command failed
	ExitUsage   = 2 // bad flags or arguments
	ExitTimeout = 3 // --timeout reached before the rollout completed
)

// ExitError carries the process exit code with the message to print. A nil Err means
// nothing more to print (the command already said what it had to).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks a mistake in how the command was called (exit code 2).
func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by the root command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	return ExitFailure
}

// usageArgs makes a cobra argument check's failure a usage error (exit code 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError("%v\nSee '%s --help'.", err, cmd.CommandPath())
		}
		return nil
	}
}

// issuesURL is where a crash is reported.
const issuesURL = "https://github.com/pyroll/kubectl-pyroll/issues"

// PanicReport turns a panic (where it happened, its value and stack) into the error to print:
// one line, and a second asking for a report, with the stack written to a file of its own
// rather than over the user's terminal.
func PanicReport(where string, value any, stack []byte) error {
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("internal error in %s: %v\n%s", where, value, crashHint(where, value, stack))}
}

// crashHint writes the crash file and asks for a report, naming the file when it could be
// written.
func crashHint(where string, value any, stack []byte) string {
	hint := "please report it at " + issuesURL
	if path, err := writeCrashFile(where, value, stack); err == nil {
		hint += ", with the details in " + path
	}
	return hint
}

func writeCrashFile(where string, value any, stack []byte) (string, error) {
	f, err := os.CreateTemp("", "kubectl-pyroll-crash-*.txt")
	if err != nil {
		return "", err
	}
	defer f.Close()
	v := version.Get()
	_, err = fmt.Fprintf(f, "kubectl-pyroll %s (commit %s, %s, %s)\npanic in %s: %v\n\n%s", v.Version, v.Commit, v.GoVersion, v.Platform, where, value, stack)
	return f.Name(), err
}

// consoleError is the console's error as the user should read it: a panic as PanicReport.
func consoleError(err error) error {
	var crash *app.PanicError
	if errors.As(err, &crash) {
		return PanicReport("the console ("+crash.Where+")", crash.Value, crash.Stack)
	}
	return err
}
