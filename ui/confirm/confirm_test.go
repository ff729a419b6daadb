package confirm

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

func press(code rune, text string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: code, Text: text} }

func TestOnlyYNAndEscAnswer(t *testing.T) {
	plan := intent.Plan{Request: intent.Request{Action: intent.Rollback}, Message: "roll back api from rev 2 to rev 1"}
	for _, c := range []struct {
		name string
		key  tea.KeyPressMsg
		yes  bool
	}{{"y", press('y', "y"), true}, {"n", press('n', "n"), false}, {"esc", tea.KeyPressMsg{Code: tea.KeyEscape}, false}} {
		m := New(styles.New(styles.Options{}), keys.New())
		m.Ask(plan)
		for _, stray := range []tea.KeyPressMsg{press('j', "j"), press('q', "q"), press('h', "h"), {Code: tea.KeyEnter}} {
			if cmd := m.Update(stray); cmd != nil || !m.Capturing() {
				t.Fatalf("%s: a stray key answered or closed the question", stray)
			}
		}
		cmd := m.Update(c.key)
		if cmd == nil || m.Capturing() {
			t.Fatalf("%s: no answer, or the question stays", c.name)
		}
		if got := cmd().(AnsweredMsg); got.Yes != c.yes || got.Plan.Message != plan.Message {
			t.Errorf("%s: answered %+v", c.name, got)
		}
	}
}
