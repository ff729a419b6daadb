// Package confirm is the question asked before promote and rollback: the plan's effect,
// then y to go ahead, n or esc to cancel. Every other key is ignored while it waits, so a
// stray key neither confirms nor silently cancels.
package confirm

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// AnsweredMsg is the answer: Yes applies Plan (holding its GitOps owner first when the
// question offered it and y was pressed: Plan.HoldOwner), else nothing changes.
type AnsweredMsg struct {
	Plan intent.Plan
	Yes  bool
}

// Model holds at most one plan waiting for an answer.
type Model struct {
	styles          styles.Styles
	yes, no, anyway key.Binding
	plan            *intent.Plan
	width           int
}

// New returns a confirmation with nothing to ask.
func New(s styles.Styles, km keys.Map) Model {
	return Model{styles: s, yes: km.Confirm, no: km.Cancel, anyway: km.Anyway}
}

// offersHold says whether the question offers to hold the plan's GitOps owner first: it
// will undo the write, and may be held.
func offersHold(p intent.Plan) bool { return p.Owner.Undone() && p.Owner.Holdable }

// Ask shows the plan's question.
func (m *Model) Ask(plan intent.Plan) { m.plan = &plan }

// Capturing reports whether a question waits: then it takes every key.
func (m Model) Capturing() bool { return m.plan != nil }

// SetSize sets the width the question wraps at.
func (m *Model) SetSize(width, _ int) { m.width = width }

// Update answers on y, n or esc, and ignores every other key.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || m.plan == nil {
		return nil
	}
	var answer AnsweredMsg
	switch {
	case key.Matches(k, m.yes):
		answer = AnsweredMsg{Plan: *m.plan, Yes: true}
		answer.Plan.HoldOwner = offersHold(*m.plan)
	case offersHold(*m.plan) && key.Matches(k, m.anyway):
		answer = AnsweredMsg{Plan: *m.plan, Yes: true}
		answer.Plan.HoldOwner = false
	case key.Matches(k, m.no):
		answer = AnsweredMsg{Plan: *m.plan}
	default:
		return nil
	}
	m.plan = nil
	return func() tea.Msg { return answer }
}

// View is the question, wrapped to the width ("" when none waits).
func (m Model) View() string {
	if m.plan == nil {
		return ""
	}
	p := *m.plan
	var q string
	name := p.Action.Name(p.Target.Kind)
	switch {
	case offersHold(p):
		// "Flux Kustomization flux-system/apps will put 2.1.0 back within 20s: suspend it
		// and roll back [y], roll back anyway [a], cancel [n]"
		q = m.styles.Warning.Render(p.Message.String()+": "+p.Owner.Text.String()) + ":  " +
			m.styles.Bold.Render(fmt.Sprintf("%s and %s [y], %s anyway [a], cancel [n]", p.Owner.HoldWords, name, name))
	case p.Owner.Undone():
		q = m.styles.Warning.Render(p.Message.String()+"? "+p.Owner.Text.String()+": "+name+" anyway?") + "  " + m.styles.Bold.Render("y/n")
	case p.Owner.Text != "":
		q = m.styles.Warning.Render(p.Message.String()+"? ("+p.Owner.Text.String()+")") + "  " + m.styles.Bold.Render("y/n")
	default:
		q = m.styles.Warning.Render(p.Message.String()+"?") + "  " + m.styles.Bold.Render("y/n")
	}
	return strings.TrimRight(ansi.Wordwrap(q, max(m.width, 10), ""), "\n")
}

// ShortHelp is y and n/esc (and a when a hold is offered).
func (m Model) ShortHelp() []key.Binding {
	if m.plan != nil && offersHold(*m.plan) {
		return []key.Binding{m.yes, m.anyway, m.no}
	}
	return []key.Binding{m.yes, m.no}
}

// FullHelp is y and n/esc.
func (m Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
