package tmux

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSessionTypesReadsAndPipes(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		// make test installs tmux (its deps step) before the unit tests, so CI runs this.
		t.Skip("tmux is not installed")
	}
	s, err := Start(Options{Socket: fmt.Sprintf("pyroll-tmux-test-%d", time.Now().UnixNano()), Width: 60, Height: 10, Env: []string{"GREETING=hello"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Kill()
	ctx := context.Background()
	if _, _, err := s.WaitScreen(ctx, 10*time.Second, 20*time.Millisecond, "the prompt", func(screen string) bool { return strings.Contains(screen, "$") }); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(t.TempDir(), "terminal.raw")
	if err := s.PipeTo(raw); err != nil {
		t.Fatal(err)
	}
	if err := s.Type(`echo "$GREETING from $HOME"`); err != nil {
		t.Fatal(err)
	}
	if err := s.Press("Enter"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.WaitScreen(ctx, 10*time.Second, 20*time.Millisecond, "the echo", func(screen string) bool { return strings.Contains(screen, "hello from /tmp") }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.WaitScreen(ctx, 10*time.Second, 20*time.Millisecond, "the piped bytes", func(string) bool {
		data, _ := os.ReadFile(raw)
		return strings.Contains(string(data), "hello from /tmp")
	}); err != nil {
		t.Fatal(err)
	}
	if pid, err := s.PanePID(); err != nil || pid <= 0 {
		t.Errorf("PanePID = %d, %v", pid, err)
	}
	_, _, err = s.WaitScreen(ctx, 50*time.Millisecond, 10*time.Millisecond, "a word never typed", func(screen string) bool { return strings.Contains(screen, "never") })
	if err == nil || !strings.Contains(err.Error(), "a word never typed: not on screen") {
		t.Errorf("WaitScreen for what never comes: %v", err)
	}
	s.Kill()
	if _, err := s.Screen(); err == nil {
		t.Error("the session still answers after Kill")
	}
}
