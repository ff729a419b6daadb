// Package help is the console's key help: one line by priority (what does not fit is
// dropped, least important first) or, toggled with ?, every key in columns. A disabled
// binding (an action forbidden by RBAC or --read-only) stays in view, greyed out, and the
// full help says why it is off.
package help

import (
	"strings"

	bhelp "charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

const fullSeparator = "    "

// Model is the help of the keys shown (SetKeys): short or full.
type Model struct {
	toggle   key.Binding
	keys     bhelp.KeyMap
	full     bool
	offWhy   string // why the disabled bindings are off
	width    int
	key      lipgloss.Style
	desc     lipgloss.Style
	sep      lipgloss.Style
	disabled lipgloss.Style
	// shortSeparator and ellipsis follow --ascii.
	shortSeparator, ellipsis string
}

// New returns the short help; toggle (?) switches to the full one and back.
func New(s styles.Styles, toggle key.Binding) Model {
	m := Model{toggle: toggle, disabled: lipgloss.NewStyle().Strikethrough(true),
		shortSeparator: " " + s.Glyphs.Dot + " ", ellipsis: "…"}
	if s.ASCII {
		m.ellipsis = "..."
	}
	if s.Color {
		d := bhelp.DefaultStyles(true)
		m.key, m.desc, m.sep = d.ShortKey, d.ShortDesc, d.ShortSeparator
		m.disabled = m.disabled.Inherit(s.Dim)
	}
	return m
}

// SetKeys sets the bindings the help shows (the focused component's and the global
// ones, most important first) and why its disabled ones are off ("" when none is).
func (m *Model) SetKeys(k bhelp.KeyMap, offWhy string) { m.keys, m.offWhy = k, offWhy }

// SetSize sets the width the help fits in; its height is what it needs.
func (m *Model) SetSize(width, _ int) { m.width = width }

// Full reports whether the full help is shown.
func (m Model) Full() bool { return m.full }

// Update toggles the full help.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, m.toggle) {
		m.full = !m.full
	}
	return nil
}

// ShortHelp is the help's own key.
func (m Model) ShortHelp() []key.Binding { return []key.Binding{m.toggle} }

// FullHelp is the help's own key.
func (m Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// View is the short help line or the full help's columns.
func (m Model) View() string {
	if m.keys == nil {
		return ""
	}
	if m.full {
		return m.FullView(m.keys.FullHelp())
	}
	return m.ShortView(m.keys.ShortHelp())
}

func (m Model) item(b key.Binding) string {
	h := b.Help()
	if !b.Enabled() {
		return m.disabled.Render(h.Key + " " + h.Desc)
	}
	return m.key.Render(h.Key) + " " + m.desc.Render(h.Desc)
}

// ShortView is one line of bindings given most important first: each is shown while it
// fits, so the ones dropped at a narrow width are the least important. (bubbles' help
// cuts from the right whatever the order; here the caller's order is the priority.)
func (m Model) ShortView(bindings []key.Binding) string {
	var b strings.Builder
	used := 0
	sep := m.sep.Render(m.shortSeparator)
	for _, kb := range bindings {
		if kb.Help().Key == "" {
			continue
		}
		item := m.item(kb)
		if used > 0 {
			item = sep + item
		}
		w := ansi.StringWidth(item)
		if m.width > 0 && used+w > m.width {
			if tail := " " + m.sep.Render(m.ellipsis); used+1+ansi.StringWidth(m.ellipsis) <= m.width {
				b.WriteString(tail)
			}
			break
		}
		b.WriteString(item)
		used += w
	}
	return b.String()
}

// FullView is the groups as columns, as many as fit; disabled bindings are marked off,
// with the reason on a last line.
func (m Model) FullView(groups [][]key.Binding) string {
	var cols []string
	used := 0
	anyOff := false
	for _, group := range groups {
		var keys, descs []string
		for _, kb := range group {
			h := kb.Help()
			if h.Key == "" {
				continue
			}
			if !kb.Enabled() {
				anyOff = true
				keys = append(keys, m.disabled.Render(h.Key))
				descs = append(descs, m.disabled.Render(h.Desc)+" (off)")
				continue
			}
			keys = append(keys, m.key.Render(h.Key))
			descs = append(descs, m.desc.Render(h.Desc))
		}
		if len(keys) == 0 {
			continue
		}
		col := lipgloss.JoinHorizontal(lipgloss.Top, strings.Join(keys, "\n"), " ", strings.Join(descs, "\n"))
		if len(cols) > 0 {
			col = lipgloss.JoinHorizontal(lipgloss.Top, m.sep.Render(fullSeparator), col)
		}
		w := lipgloss.Width(col)
		if m.width > 0 && used+w > m.width {
			break
		}
		cols = append(cols, col)
		used += w
	}
	out := lipgloss.JoinHorizontal(lipgloss.Top, cols...)
	if anyOff && m.offWhy != "" {
		out += "\n" + m.disabled.UnsetStrikethrough().Render("off: "+m.offWhy)
	}
	return out
}
