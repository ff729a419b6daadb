// Package footer is the bottom of the console: the breach banner, the filter's input or
// the confirmation's question, the answer to the last action, how fresh the picture is,
// and the key help.
package footer

import (
	"strings"

	bhelp "charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/help"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// Status is the footer's answer to the last action. Its text is a safetext.Text: it often
// holds what the API server answered.
type Status struct {
	Text      safetext.Text
	Good, Bad bool
}

// Model lays the footer's lines out, each wrapped or cut to the width.
type Model struct {
	styles     styles.Styles
	help       help.Model
	width      int
	status     Status
	banner     string // styled; "" when nothing breaches
	input      string // the filter's input line, "" when closed
	question   string // the confirmation, "" when none waits; hides the status
	connection string // styled: live, reconnecting 12s, forbidden...
}

// New returns an empty footer; its help toggles with km.Help.
func New(s styles.Styles, km keys.Map) Model {
	return Model{styles: s, help: help.New(s, km.Help)}
}

// SetSize sets the width; the footer is as high as its lines.
func (m *Model) SetSize(width, height int) {
	m.width = width
	m.help.SetSize(width, height)
}

// SetStatus says how the last action went.
func (m *Model) SetStatus(s Status) { m.status = s }

// SetBanner sets the breach banner (styled; "" removes it).
func (m *Model) SetBanner(b string) { m.banner = b }

// SetPrompt sets the filter's input line and the confirmation's question ("" for none).
func (m *Model) SetPrompt(input, question string) { m.input, m.question = input, question }

// SetConnection sets the freshness line.
func (m *Model) SetConnection(line string) { m.connection = line }

// SetKeys sets the keys the help shows, most important first, and why the disabled ones
// are off.
func (m *Model) SetKeys(k bhelp.KeyMap, offWhy string) { m.help.SetKeys(k, offWhy) }

// Update toggles the full help.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.help.Update(msg) }

// ShortHelp is the help's key.
func (m Model) ShortHelp() []key.Binding { return m.help.ShortHelp() }

// FullHelp is the help's key.
func (m Model) FullHelp() [][]key.Binding { return m.help.FullHelp() }

// Lines are the footer's lines, top to bottom.
func (m Model) Lines() []string {
	var lines []string
	wrap := func(s string) { lines = append(lines, strings.Split(ansi.Wordwrap(s, max(m.width, 10), ""), "\n")...) }
	if m.banner != "" {
		wrap(m.banner)
	}
	if m.input != "" {
		lines = append(lines, m.input)
	}
	switch {
	case m.question != "":
		lines = append(lines, strings.Split(m.question, "\n")...)
	case m.status.Text != "":
		style := m.styles.Dim
		switch {
		case m.status.Bad:
			style = m.styles.Error
		case m.status.Good:
			style = m.styles.Ready
		}
		wrap(style.Render(m.status.Text.String()))
	}
	lines = append(lines, m.connection)
	return append(lines, strings.Split(m.help.View(), "\n")...)
}

// View is the lines joined.
func (m Model) View() string { return strings.Join(m.Lines(), "\n") }
