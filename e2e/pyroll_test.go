//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

func pyrollBinary() string { return filepath.Join(sandboxtest.ProductBin(), "kubectl-pyroll") }

// runPyroll runs kubectl-pyroll to completion (killed after limit, which only guards
// against a hang) and returns its output and exit code.
func runPyroll(t *testing.T, limit time.Duration, kubeconfig string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, pyrollBinary(), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("kubectl-pyroll %s: still running after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), limit, out.String(), errOut.String())
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// streamingCommand is a running kubectl-pyroll whose stdout lines (or stderr's, for a
// command that logs there) are collected as they come; the other stream is kept whole.
type streamingCommand struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer // the stream not collected as lines
	done   chan struct{}
	err    error

	mu    sync.Mutex
	lines []string
}

func startPyroll(t *testing.T, kubeconfig string, args ...string) *streamingCommand {
	t.Helper()
	return startStreaming(t, false, kubeconfig, args...)
}

// startStreaming starts kubectl-pyroll, collecting stderr's lines when linesOfStderr.
func startStreaming(t *testing.T, linesOfStderr bool, kubeconfig string, args ...string) *streamingCommand {
	t.Helper()
	s := &streamingCommand{done: make(chan struct{})}
	s.cmd = exec.Command(pyrollBinary(), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stdout io.ReadCloser
	var err error
	if linesOfStderr {
		s.cmd.Stdout = &s.stderr
		stdout, err = s.cmd.StderrPipe()
	} else {
		s.cmd.Stderr = &s.stderr
		stdout, err = s.cmd.StdoutPipe()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		for scanner.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, scanner.Text())
			s.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

func (s *streamingCommand) output() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// wait returns the exit code, failing the test if the command runs longer than limit.
func (s *streamingCommand) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(limit):
		t.Fatalf("still running after %s; output so far:\n%s\nstderr:\n%s", limit, strings.Join(s.output(), "\n"), s.stderr.String())
	}
	var exit *exec.ExitError
	if errors.As(s.err, &exit) {
		return exit.ExitCode()
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	return 0
}

func TestKubectlPluginVersion(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is not on PATH: the plugin test needs it")
	}
	cmd := exec.Command(kubectl, "pyroll", "version")
	cmd.Env = append(os.Environ(), "PATH="+sandboxtest.ProductBin()+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "kubectl-pyroll ") || !strings.Contains(string(out), "go1.") {
		t.Fatalf("kubectl pyroll version: %v\n%s", err, out)
	}
	help, err := exec.Command(filepath.Join(sandboxtest.ProductBin(), "kubectl-pyroll"), "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(help), "kubectl pyroll") || !strings.Contains(string(help), "--kubeconfig") {
		t.Fatalf("kubectl-pyroll --help: %v\n%s", err, help)
	}
}
