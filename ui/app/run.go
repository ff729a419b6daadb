package app

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
)

// GuardedProgram is the console on t, guarded: a panic in Update, View or a command quits
// it as q does (the terminal is given back, nothing printed over it), and crashed says
// afterwards what the panic was (nil when none).
func GuardedProgram(ctx context.Context, o Options, t Terminal) (p *tea.Program, crashed func() *PanicError) {
	c := &crash{testPanic: o.TestPanic}
	p = program(ctx, guarded{inner: New(o), crash: c}, o, t)
	c.program = p
	return p, c.crashed
}

// Run shows the console on the terminal (in, out) until the user quits or ctx ends. When the
// console panics, the terminal is given back first and Run returns a *PanicError.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	p, crashed := GuardedProgram(ctx, o, Terminal{In: in, Out: out})
	_, err := p.Run()
	if crashed := crashed(); crashed != nil {
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
