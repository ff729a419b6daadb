package app

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
)

// Run shows the console on the terminal (in, out) until the user quits or ctx ends. When the
// console panics, the terminal is given back first and Run returns a *PanicError.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	c := &crash{testPanic: o.TestPanic}
	p := program(ctx, guarded{inner: New(o), crash: c}, o, Terminal{In: in, Out: out})
	c.program = p
	_, err := p.Run()
	if crashed := c.crashed(); crashed != nil {
		return crashed
	}
	switch {
	case errors.Is(err, tea.ErrProgramPanic):
		// Caught by bubbletea's own fallback, which printed its report.
		return &PanicError{Where: "bubbletea", Value: "see the report above"}
	case errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled):
		return nil
	}
	return err
}
