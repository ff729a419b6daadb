// Package pane is a titled, scrollable page of text: the console's "what changed" diff
// and a pod's logs.
package pane

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// Model shows a title over lines that scroll.
type Model struct {
	styles   styles.Styles
	viewport viewport.Model
	keys     keys.Map
	title    string
	pinned   string // a line under the title that never scrolls away (the exception)
	lines    []string
	width    int
	height   int
}

// New returns an empty pane scrolled by the console's movement keys.
func New(s styles.Styles, km keys.Map) Model {
	vp := viewport.New()
	vp.KeyMap = km.Viewport()
	vp.MouseWheelEnabled = false
	return Model{styles: s, viewport: vp, keys: km}
}

// Show replaces the content and scrolls so that line last (of lines) is the bottom line
// in view, or the top one when everything up to it fits. pinned, if not "", stays under
// the title.
func (m *Model) Show(title, pinned string, lines []string, last int) {
	m.title, m.pinned, m.lines = title, pinned, lines
	m.setHeight()
	m.render()
	row := 0
	for i := 0; i <= last && i < len(lines); i++ {
		row += strings.Count(ansi.Hardwrap(lines[i], max(m.width, 10), true), "\n") + 1
	}
	m.viewport.SetYOffset(max(row-m.viewport.Height(), 0))
}

// Title is what the pane shows.
func (m Model) Title() string { return m.title }

// SetSize fits the pane (title included) into width x height cells.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.viewport.SetWidth(max(width, 1))
	m.setHeight()
	m.render()
}

func (m *Model) setHeight() {
	header := 1
	if m.pinned != "" {
		header = 2
	}
	m.viewport.SetHeight(max(m.height-header, 1))
}

func (m *Model) render() {
	wrapped := make([]string, 0, len(m.lines))
	for _, l := range m.lines {
		// Long log lines wrap rather than vanish off the right edge.
		wrapped = append(wrapped, strings.Split(ansi.Hardwrap(l, max(m.width, 10), true), "\n")...)
	}
	m.viewport.SetContent(strings.Join(wrapped, "\n"))
}

// Update scrolls.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.viewport, cmd = m.viewport.Update(msg)
	return cmd
}

// ShortHelp is the page's own keys: scrolling.
func (m Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Move} }

// FullHelp is the page's own keys: scrolling.
func (m Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Up, m.keys.Down, m.keys.PageUp, m.keys.PageDown}}
}

// View is the title line and the visible lines.
func (m Model) View() string {
	head := ansi.Truncate(m.styles.Title.Render(m.title), max(m.width, 1), "…")
	if m.pinned != "" {
		head += "\n" + ansi.Truncate(m.pinned, max(m.width, 1), "…")
	}
	return head + "\n" + m.viewport.View()
}
