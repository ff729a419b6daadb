//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/testkit/tmux"
)

// tmuxPane is a real terminal (package tmux) for a test: it is killed when the test ends,
// and any tmux failure fails the test.
type tmuxPane struct {
	t       *testing.T
	session *tmux.Session
}

func startTmux(t *testing.T, width, height int) *tmuxPane {
	t.Helper()
	s, err := tmux.Start(tmux.Options{Socket: fmt.Sprintf("pyroll-e2e-%d", time.Now().UnixNano()), Width: width, Height: height})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	return &tmuxPane{t: t, session: s}
}

func (p *tmuxPane) must(err error) {
	p.t.Helper()
	if err != nil {
		p.t.Fatal(err)
	}
}

// keys types literal text; key presses a named key (Enter, Escape, ...).
func (p *tmuxPane) keys(text string) { p.t.Helper(); p.must(p.session.Type(text)) }
func (p *tmuxPane) key(name string)  { p.t.Helper(); p.must(p.session.Press(name)) }

func (p *tmuxPane) resize(width, height int) { p.t.Helper(); p.must(p.session.Resize(width, height)) }

// pipeTo appends everything the terminal receives from now on to the file at path.
func (p *tmuxPane) pipeTo(path string) { p.t.Helper(); p.must(p.session.PipeTo(path)) }

func (p *tmuxPane) screen() string {
	p.t.Helper()
	s, err := p.session.Screen()
	p.must(err)
	return s
}

// waitScreen waits (a minute at most, polling every 200ms) until cond holds for the visible
// screen, and returns that screen.
func (p *tmuxPane) waitScreen(what string, cond func(screen string) bool) string {
	p.t.Helper()
	s, _, err := p.session.WaitScreen(context.Background(), time.Minute, 200*time.Millisecond, what, cond)
	p.must(err)
	return s
}

func containsAll(words ...string) func(string) bool {
	return func(s string) bool {
		for _, w := range words {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}
}

// flowing applies check to the screen's words on one line: for a phrase the detail may wrap
// at any space, wherever a measured value's length puts the break.
func flowing(check func(string) bool) func(string) bool {
	return func(s string) bool { return check(strings.Join(strings.Fields(s), " ")) }
}

// rowOf returns the screen line that starts with name.
func rowOf(screen, name string) string {
	for _, line := range strings.Split(screen, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), name+" ") {
			return line
		}
	}
	return ""
}
