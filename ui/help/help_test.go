package help

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// The short help keeps the bindings in the order given (most important first) and drops
// the last ones that do not fit; a disabled binding stays in view.
func TestShortViewDropsTheLeastImportantFirst(t *testing.T) {
	km := keys.New()
	halt := km.Halt
	halt.SetEnabled(false)
	m := New(styles.New(styles.Options{}), km.Help)
	bindings := []key.Binding{km.Open, halt, km.Help, km.Quit, km.Diff, km.Logs}
	for _, c := range []struct {
		width int
		want  string
	}{
		{200, "enter open · h halt · ? help · q quit · d what changed · l logs"},
		{40, "enter open · h halt · ? help · q quit …"},
		{24, "enter open · h halt …"},
	} {
		m.SetSize(c.width, 1)
		got := ansi.Strip(m.ShortView(bindings))
		if got != c.want {
			t.Errorf("width %d: %q, want %q", c.width, got, c.want)
		}
		if ansi.StringWidth(got) > c.width {
			t.Errorf("width %d: %d cells", c.width, ansi.StringWidth(got))
		}
	}
	m.SetKeys(nil, "")
	if full := ansi.Strip(m.FullView([][]key.Binding{{km.Open, halt}})); !strings.Contains(full, "halt (off)") {
		t.Errorf("the full help should mark a disabled binding off: %q", full)
	}
}
