package app

import (
	"context"
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Terminal is where one console draws: this process's terminal, or an SSH session's
// channel (kubectl pyroll serve).
type Terminal struct {
	In  io.Reader
	Out io.Writer
	// Remote is an SSH client's terminal: its size and environment come from the client,
	// never from this process. Its sizes are untrusted: clamped to MaxWidth x MaxHeight,
	// so that no client makes the console allocate without bound.
	Remote bool
	// Width and Height are a remote terminal's size to start with (its channel cannot be
	// asked); later sizes come as messages.
	Width, Height int
	// Env is a remote terminal's environment (TERM, COLORTERM, NO_COLOR).
	Env []string
	// OnKey is called on each key press (the SSH session's idle clock); nil: nothing.
	OnKey func()
}

// The largest window the console draws: a bigger one (any SSH client may claim
// 65535x65535) is drawn at this size in its top-left corner. The screen buffers cost about
// 250 bytes a cell: 1.4 MB at 120x30, 7.5 MB at 300x100 (28 MB at 500x250).
const (
	MaxWidth  = 300
	MaxHeight = 100
)

// program runs model (the guarded console: GuardedProgram) on t, stopped when ctx ends.
func program(ctx context.Context, model tea.Model, o Options, t Terminal) *tea.Program {
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(t.In), tea.WithOutput(t.Out), tea.WithFilter(t.filter)}
	if t.Remote {
		env := append([]string{}, t.Env...) // never nil: nil means this process's
		opts = append(opts, tea.WithEnvironment(env), tea.WithWindowSize(clampSize(t.Width, t.Height)))
	}
	switch {
	case !o.Styles.Color:
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	case t.Remote:
		// Not a terminal of this process: the colours its environment says it has.
		opts = append(opts, tea.WithColorProfile(colorprofile.Env(t.Env)))
	}
	return tea.NewProgram(model, opts...)
}

// filter clamps a remote terminal's sizes and tells OnKey about key presses.
func (t Terminal) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	switch m := msg.(type) {
	case tea.WindowSizeMsg:
		if t.Remote {
			m.Width, m.Height = clampSize(m.Width, m.Height)
		}
		return m
	case tea.KeyPressMsg:
		if t.OnKey != nil {
			t.OnKey()
		}
	}
	return msg
}

func clampSize(w, h int) (int, int) {
	return min(max(w, 0), MaxWidth), min(max(h, 0), MaxHeight)
}
