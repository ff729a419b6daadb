// Package tmux drives a real terminal, for the end-to-end tests and hack/scalebench: a tmux
// server of its own (own socket, no user config) with one session running bash without rc
// files in a clean environment. Text and keys go in with send-keys, the screen comes back
// with capture-pane; waits poll the screen until a condition holds.
package tmux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// target is the session (and its one pane) every command addresses.
const target = "main"

// Options say how the terminal starts.
type Options struct {
	// Socket names the server's socket (tmux -L): one name per terminal.
	Socket string
	// Width and Height are the terminal's size in cells.
	Width, Height int
	// Home is the shell's HOME (default /tmp).
	Home string
	// Env holds more KEY=VALUE variables for the shell, beside PATH (/usr/bin:/bin), HOME,
	// TERM (xterm-256color), LANG (C.UTF-8) and PS1 ("$ ").
	Env []string
}

// Session is a running terminal.
type Session struct {
	socket string
	path   string // the socket's file, removed by Kill
}

// Start starts the server and its session. Kill stops it.
func Start(opts Options) (*Session, error) {
	if _, err := exec.LookPath("tmux"); err != nil {
		return nil, errors.New("tmux is not installed: run make deps")
	}
	if opts.Socket == "" {
		return nil, errors.New("tmux: no socket name")
	}
	home := opts.Home
	if home == "" {
		home = "/tmp"
	}
	s := &Session{socket: opts.Socket}
	args := []string{"new-session", "-d", "-s", target, "-x", strconv.Itoa(opts.Width), "-y", strconv.Itoa(opts.Height),
		"env", "-i", "PATH=/usr/bin:/bin", "HOME=" + home, "TERM=xterm-256color", "LANG=C.UTF-8", "PS1=$ "}
	args = append(append(args, opts.Env...), "bash", "--norc", "--noprofile")
	if _, err := s.Run(args...); err != nil {
		s.Kill()
		return nil, err
	}
	if out, err := s.Run("display-message", "-p", "#{socket_path}"); err == nil {
		s.path = strings.TrimSpace(out)
	}
	return s, nil
}

// Run runs one tmux command against this server and returns its output.
func (s *Session) Run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Type types text literally.
func (s *Session) Type(text string) error {
	_, err := s.Run("send-keys", "-t", target, "-l", text)
	return err
}

// Press presses a named key (Enter, Escape, ...).
func (s *Session) Press(key string) error {
	_, err := s.Run("send-keys", "-t", target, key)
	return err
}

// Screen is the visible screen, one line per row.
func (s *Session) Screen() (string, error) { return s.Run("capture-pane", "-p", "-t", target) }

// Resize sets the terminal's size.
func (s *Session) Resize(width, height int) error {
	_, err := s.Run("resize-window", "-t", target, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height))
	return err
}

// PipeTo appends everything written to the terminal from now on to the file at path, as
// tmux receives it (pipe-pane).
func (s *Session) PipeTo(path string) error {
	_, err := s.Run("pipe-pane", "-t", target, "cat >> "+path)
	return err
}

// PanePID is the process id of the pane's program (the shell, or what it exec'd).
func (s *Session) PanePID() (int, error) {
	out, err := s.Run("display-message", "-p", "-t", target, "#{pane_pid}")
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return 0, fmt.Errorf("tmux pane pid %q: %w", out, err)
	}
	return pid, nil
}

// WaitScreen polls the screen every interval until cond holds, for at most timeout, and
// returns that screen and when it was captured; else the last screen and an error that
// names what was awaited and shows the screen.
func (s *Session) WaitScreen(ctx context.Context, timeout, interval time.Duration, what string, cond func(screen string) bool) (string, time.Time, error) {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		screen, err := s.Screen()
		now := time.Now()
		if err != nil {
			return screen, now, err
		}
		last = screen
		if cond(screen) {
			return screen, now, nil
		}
		if now.After(deadline) {
			return last, now, fmt.Errorf("%s: not on screen after %s; screen:\n%s", what, timeout, last)
		}
		select {
		case <-ctx.Done():
			return last, now, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// Kill stops the server and everything running in it, and removes its socket file.
func (s *Session) Kill() {
	_ = exec.Command("tmux", "-L", s.socket, "kill-server").Run()
	if s.path != "" {
		_ = os.Remove(s.path)
	}
}
