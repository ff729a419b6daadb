// Package filter is the list's filter input: / opens it, typed text narrows the list,
// enter keeps the filter and closes the input, esc clears it.
package filter

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/ui/keys"
)

// Model is the input line; it takes every key while open.
type Model struct {
	input         textinput.Model
	accept, clear key.Binding
	open          bool
}

// New returns a closed filter.
func New(km keys.Map) Model {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "name"
	return Model{input: ti, accept: km.Accept, clear: km.ClearFilter}
}

// Open shows the input, holding value, with the cursor in it.
func (m *Model) Open(value string) tea.Cmd {
	m.open = true
	m.input.SetValue(value)
	return m.input.Focus()
}

// Clear empties the filter without opening it.
func (m *Model) Clear() { m.input.SetValue("") }

// Capturing reports whether the input is open: then it takes every key.
func (m Model) Capturing() bool { return m.open }

// Value is the filter.
func (m Model) Value() string { return m.input.Value() }

// SetSize sets the input's width.
func (m *Model) SetSize(width, _ int) { m.input.SetWidth(max(width-2, 1)) }

// Update edits the filter; enter closes the input, esc clears and closes it.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, m.clear):
			m.input.SetValue("")
			fallthrough
		case key.Matches(k, m.accept):
			m.open = false
			m.input.Blur()
			return nil
		}
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// View is the input line ("" when closed).
func (m Model) View() string {
	if !m.open {
		return ""
	}
	return m.input.View()
}

// ShortHelp is enter and esc.
func (m Model) ShortHelp() []key.Binding { return []key.Binding{m.accept, m.clear} }

// FullHelp is enter and esc.
func (m Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
