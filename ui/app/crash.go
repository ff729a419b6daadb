package app

import (
	"fmt"
	"runtime/debug"
	"sync"

	tea "charm.land/bubbletea/v2"
)

// PanicError is what Run returns when the console panicked (in Update, View or a command):
// the program quit and bubbletea gave the terminal back before Run returned, so the caller
// prints one line, not a stack trace over a full-screen console.
type PanicError struct {
	Where string // Update, View, a command
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error in the console (%s): %v", e.Where, e.Value)
}

// TestPanicKey is the key that makes the console panic where Options.TestPanic says: a hook
// for the end-to-end tests of the terminal's restoration, never set otherwise.
const TestPanicKey = "!"

// guarded runs the console's model so that a panic in Update, View or a command ends the
// program as a quit does (the final frame leaves the alternate screen, bubbletea restores
// the terminal) and Run returns it as a *PanicError. Bubbletea's own panic catching stays as
// a fallback (it prints a stack trace).
type guarded struct {
	inner tea.Model
	crash *crash
}

// crash is shared by every copy of the guarded model.
type crash struct {
	mu      sync.Mutex
	err     *PanicError
	program *tea.Program // to quit from View, which cannot return a command
	// testPanic is Options.TestPanic: update, view or cmd.
	testPanic string
}

// panicMsg says a command panicked.
type panicMsg struct{}

func (c *crash) record(where string, value any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = &PanicError{Where: where, Value: value, Stack: debug.Stack()}
	}
}

func (c *crash) crashed() *PanicError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// protect makes cmd report a panic as a panicMsg; so do the commands of a batch it returns.
func (c *crash) protect(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				c.record("a command", r)
				msg = panicMsg{}
			}
		}()
		msg = cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			protected := make(tea.BatchMsg, len(batch))
			for i, cmd := range batch {
				protected[i] = c.protect(cmd)
			}
			return protected
		}
		return msg
	}
}

func (g guarded) Init() (cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			g.crash.record("Init", r)
			cmd = tea.Quit
		}
	}()
	return g.crash.protect(g.inner.Init())
}

func (g guarded) Update(msg tea.Msg) (next tea.Model, cmd tea.Cmd) {
	if _, ok := msg.(panicMsg); ok || g.crash.crashed() != nil {
		return g, tea.Quit
	}
	defer func() {
		if r := recover(); r != nil {
			g.crash.record("Update", r)
			next, cmd = g, tea.Quit
		}
	}()
	if key, ok := msg.(tea.KeyPressMsg); ok && g.crash.testPanic != "" && key.String() == TestPanicKey {
		switch g.crash.testPanic {
		case "update":
			panic("test panic in Update (PYROLL_TEST_PANIC=update)")
		case "cmd":
			return g, g.crash.protect(func() tea.Msg { panic("test panic in a command (PYROLL_TEST_PANIC=cmd)") })
		case "view":
			g.crash.testPanic = "view-now"
		}
	}
	inner, cmd := g.inner.Update(msg)
	g.inner = inner
	return g, g.crash.protect(cmd)
}

func (g guarded) View() (v tea.View) {
	if g.crash.crashed() != nil {
		return tea.View{} // out of the alternate screen, nothing drawn
	}
	defer func() {
		if r := recover(); r != nil {
			g.crash.record("View", r)
			v = tea.View{}
			if p := g.crash.program; p != nil {
				go p.Quit()
			}
		}
	}()
	if g.crash.testPanic == "view-now" {
		panic("test panic in View (PYROLL_TEST_PANIC=view)")
	}
	return g.inner.View()
}
