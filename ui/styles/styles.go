// Package styles is the console's one place for colours and glyphs. It is a leaf: every
// component takes a Styles value; nothing here is global or mutable.
package styles

import (
	"charm.land/lipgloss/v2"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Options choose how the console draws: colour (off with --no-color or NO_COLOR) and
// Unicode glyphs (off with --ascii, for terminals and fonts that lack them).
type Options struct {
	Color bool
	ASCII bool
}

// Glyphs are the symbols the console draws with.
type Glyphs struct {
	Phase       map[rollout.Phase]string
	Arrow       string // stable -> canary
	PodReady    string
	PodPending  string
	PodFailing  string
	RevisionSep string
	Dot         string
	None        string // an empty cell: no data yet
	StepDone    string // an Argo Rollout's step already passed
	StepCurrent string // the step it stands at
	// Reverted marks a rollout whose GitOps owner (Argo CD, Flux, Helm) will undo a
	// rollback (or whose next helm upgrade will conflict with one).
	Reverted string
}

// Styles are the console's styles and glyphs.
type Styles struct {
	Options
	Glyphs   Glyphs
	Phase    map[rollout.Phase]lipgloss.Style
	Title    lipgloss.Style
	Header   lipgloss.Style
	Selected lipgloss.Style
	Dim      lipgloss.Style
	Bold     lipgloss.Style
	Ready    lipgloss.Style
	Pending  lipgloss.Style
	Failing  lipgloss.Style
	Warning  lipgloss.Style
	Footer   lipgloss.Style
	Error    lipgloss.Style
	Section  lipgloss.Style
	Hint     lipgloss.Style
}

// New builds the styles for the options.
func New(o Options) Styles {
	s := Styles{Options: o}
	if o.ASCII {
		s.Glyphs = Glyphs{
			Phase: map[rollout.Phase]string{
				rollout.PhaseFailed: "x", rollout.PhaseDegraded: "!", rollout.PhaseHalted: "=",
				rollout.PhasePaused: "~", rollout.PhaseProgressing: ">", rollout.PhaseBaking: "o", rollout.PhaseComplete: "+",
			},
			Arrow: "->", PodReady: "#", PodPending: "-", PodFailing: "x", RevisionSep: "|", Dot: "-", None: "-",
			StepDone: "+", StepCurrent: ">", Reverted: "@",
		}
	} else {
		s.Glyphs = Glyphs{
			Phase: map[rollout.Phase]string{
				rollout.PhaseFailed: "✗", rollout.PhaseDegraded: "▲", rollout.PhaseHalted: "‖",
				rollout.PhasePaused: "◆", rollout.PhaseProgressing: "↻", rollout.PhaseBaking: "◌", rollout.PhaseComplete: "✓",
			},
			Arrow: "→", PodReady: "█", PodPending: "░", PodFailing: "✗", RevisionSep: "│", Dot: "·", None: "–",
			StepDone: "✓", StepCurrent: "▶", Reverted: "⟲",
		}
	}
	plain := lipgloss.NewStyle()
	color := func(c string) lipgloss.Style {
		if !o.Color {
			return plain
		}
		return plain.Foreground(lipgloss.Color(c))
	}
	s.Phase = map[rollout.Phase]lipgloss.Style{
		rollout.PhaseFailed:      color("9").Bold(true),
		rollout.PhaseDegraded:    color("9").Bold(true),
		rollout.PhaseHalted:      color("11").Bold(true),
		rollout.PhasePaused:      color("14").Bold(true),
		rollout.PhaseProgressing: color("12"),
		rollout.PhaseBaking:      color("14"),
		rollout.PhaseComplete:    color("10"),
	}
	s.Title = plain.Bold(true)
	s.Header = plain.Bold(true)
	s.Bold = plain.Bold(true)
	s.Selected = plain.Reverse(true)
	s.Dim = color("8")
	s.Ready = color("10")
	s.Pending = color("11")
	s.Failing = color("9")
	s.Warning = color("11")
	s.Error = color("9").Bold(true)
	s.Footer = color("8")
	s.Section = plain.Bold(true).Underline(true)
	s.Hint = color("13")
	return s
}

// PhaseLabel is the phase as a glyph and a word, so it reads without colour too.
func (s Styles) PhaseLabel(p rollout.Phase) string {
	return s.Phase[p].Render(s.Glyphs.Phase[p] + " " + string(p))
}
