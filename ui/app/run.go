package app

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run shows the console on the terminal (in, out) until the user quits or ctx ends.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	programOpts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}
	if !o.Styles.Color {
		programOpts = append(programOpts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err := tea.NewProgram(New(o), programOpts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
