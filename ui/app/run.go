package app

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
)

// Run shows the console on the terminal (in, out) until the user quits or ctx ends.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	_, err := Program(ctx, o, Terminal{In: in, Out: out}).Run()
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
