//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tmuxPane drives a real terminal: a tmux session of its own (own socket) running bash.
type tmuxPane struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, width, height int) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: run make deps")
	}
	p := &tmuxPane{t: t, socket: fmt.Sprintf("pyroll-e2e-%d", time.Now().UnixNano())}
	p.tmux("new-session", "-d", "-s", "main", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height),
		"env", "-i", "PATH=/usr/bin:/bin", "HOME=/tmp", "TERM=xterm-256color", "PS1=$ ", "LANG=C.UTF-8", "bash", "--norc", "--noprofile")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", p.socket, "kill-server").Run() })
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// keys types literal text; key presses a named key (Enter, Escape, ...).
func (p *tmuxPane) keys(text string) { p.tmux("send-keys", "-t", "main", "-l", text) }
func (p *tmuxPane) key(name string)  { p.tmux("send-keys", "-t", "main", name) }

func (p *tmuxPane) screen() string { return p.tmux("capture-pane", "-p", "-t", "main") }

// waitScreen waits until cond holds for the visible screen.
func (p *tmuxPane) waitScreen(what string, cond func(screen string) bool) string {
	p.t.Helper()
	var last string
	eventually(p.t, time.Minute, what, func(context.Context) error {
		last = p.screen()
		if cond(last) {
			return nil
		}
		return errorf("screen:\n%s", last)
	})
	return last
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

// rowOf returns the screen line that starts with name.
func rowOf(screen, name string) string {
	for _, line := range strings.Split(screen, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), name+" ") {
			return line
		}
	}
	return ""
}
