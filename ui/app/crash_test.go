package app

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// panicky panics where it is told to.
type panicky struct{ in string }

func (p panicky) Init() tea.Cmd { return nil }

func (p panicky) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch p.in {
	case "update":
		panic("boom in update")
	case "cmd":
		inner := func() tea.Msg { panic("boom in a command") }
		return p, tea.Batch(func() tea.Msg { return nil }, tea.Batch(inner, func() tea.Msg { return nil }))
	}
	return p, nil
}

func (p panicky) View() tea.View {
	if p.in == "view" {
		panic("boom in view")
	}
	return tea.NewView("fine")
}

func isQuit(t *testing.T, cmd tea.Cmd) bool {
	t.Helper()
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestAPanicInUpdateQuitsAndIsReported(t *testing.T) {
	c := &crash{}
	next, cmd := guarded{inner: panicky{in: "update"}, crash: c}.Update(tea.KeyPressMsg{})
	if !isQuit(t, cmd) {
		t.Fatal("a panic in Update should quit")
	}
	if err := c.crashed(); err == nil || err.Where != "Update" || !strings.Contains(err.Error(), "boom in update") || len(err.Stack) == 0 {
		t.Fatalf("recorded %+v", err)
	}
	if v := next.View(); v.AltScreen || v.Content != "" {
		t.Errorf("after a panic the view should leave the alternate screen empty: %+v", v)
	}
	if _, cmd := next.Update(tea.KeyPressMsg{}); !isQuit(t, cmd) {
		t.Error("after a panic every message quits")
	}
}

func TestAPanicInACommandOfABatchQuitsAndIsReported(t *testing.T) {
	c := &crash{}
	g := guarded{inner: panicky{in: "cmd"}, crash: c}
	_, cmd := g.Update(tea.KeyPressMsg{})
	var sawPanic bool
	for _, msg := range runAll(cmd) {
		if _, ok := msg.(panicMsg); ok {
			sawPanic = true
			if _, quit := g.Update(msg); !isQuit(t, quit) {
				t.Error("a command's panic should quit")
			}
		}
	}
	if err := c.crashed(); !sawPanic || err == nil || err.Where != "a command" {
		t.Fatalf("panic message %v, recorded %+v", sawPanic, err)
	}
}

func TestAPanicInViewIsReported(t *testing.T) {
	c := &crash{}
	if v := (guarded{inner: panicky{in: "view"}, crash: c}).View(); v.Content != "" {
		t.Errorf("view %+v", v)
	}
	if err := c.crashed(); err == nil || err.Where != "View" {
		t.Fatalf("recorded %+v", err)
	}
}

// The test hook (PYROLL_TEST_PANIC) panics only at its key, and only where it says.
func TestTestPanicHook(t *testing.T) {
	key := tea.KeyPressMsg{Code: '!', Text: "!"}
	for _, where := range []string{"update", "cmd", "view"} {
		c := &crash{testPanic: where}
		g := guarded{inner: panicky{}, crash: c}
		if _, cmd := g.Update(tea.KeyPressMsg{Code: 'j', Text: "j"}); isQuit(t, cmd) || c.crashed() != nil {
			t.Fatalf("%s: another key panicked", where)
		}
		next, cmd := g.Update(key)
		runAll(cmd)
		next.View()
		if err := c.crashed(); err == nil || !strings.Contains(err.Error(), "PYROLL_TEST_PANIC="+where) {
			t.Errorf("%s: recorded %+v", where, err)
		}
	}
}
