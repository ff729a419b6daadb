package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
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
