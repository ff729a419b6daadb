// Package detail is the console's second screen: one rollout in full.
package detail

import (
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// Model shows one rollout in a scrollable viewport.
type Model struct {
	styles   styles.Styles
	viewport viewport.Model
	keys     keys.Map
	rollout  rollout.Rollout
	gone     bool
	now      time.Time
	// verdicts are the last metrics round and the guard's judgements of it.
	verdicts guard.Verdicts
	// owner is the shown rollout's GitOps owner as last read (nil: none read).
	owner *owner.View
}

// Input is what Render draws one rollout's page from: the rollout, the last metrics round
// with the guard's judgements, and the clock its ages are counted from.
type Input struct {
	Rollout  rollout.Rollout
	Verdicts guard.Verdicts
	Now      time.Time
	// Owner is the rollout's GitOps owner as last read (nil: not read yet).
	Owner *owner.View
}

// New returns an empty detail screen.
func New(s styles.Styles, km keys.Map) Model {
	vp := viewport.New()
	vp.KeyMap = km.Viewport()
	vp.MouseWheelEnabled = false
	return Model{styles: s, viewport: vp, keys: km}
}

// SetSize fits the screen into width x height cells.
func (m *Model) SetSize(width, height int) {
	m.viewport.SetWidth(max(width, 1))
	m.viewport.SetHeight(max(height, 1))
	m.render()
}

// Show sets the rollout shown (a new snapshot of the same one keeps the scroll position).
func (m *Model) Show(r rollout.Rollout, now time.Time) {
	if r.Ref() != m.rollout.Ref() {
		m.viewport.SetYOffset(0)
	}
	m.rollout, m.now, m.gone = r, now, false
	m.render()
}

// Gone marks the rollout as deleted from the cluster; the last picture stays.
func (m *Model) Gone() { m.gone = true; m.render() }

// SetVerdicts shows a new round of error rates, judged.
func (m *Model) SetVerdicts(v guard.Verdicts) { m.verdicts = v; m.render() }

// SetOwner shows what the rollout's owner (Argo CD, Flux, Helm) was read to be.
func (m *Model) SetOwner(v *owner.View) { m.owner = v; m.render() }

// Rollout is the rollout shown.
func (m Model) Rollout() rollout.Rollout { return m.rollout }

// SetNow moves the clock the ages are computed from.
func (m *Model) SetNow(now time.Time) { m.now = now; m.render() }

func (m *Model) render() {
	content := Render(m.styles, Input{Rollout: m.rollout, Verdicts: m.verdicts, Now: m.now, Owner: m.owner}, m.viewport.Width())
	if m.gone {
		content = m.styles.Error.Render("This Deployment no longer exists; esc goes back.") + "\n" + content
	}
	m.viewport.SetContent(content)
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

// View renders the visible part.
func (m Model) View() string { return m.viewport.View() }
