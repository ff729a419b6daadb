package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// process is one supervised child: its own process group (so stopping it also stops
// what it spawned, e.g. gunicorn's workers) and SIGKILL if the sandbox itself dies.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

func startProcess(name, bin string, args, env []string, logDir string) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return spawn(name, bin, args, env, logFile, logFile, logPath, logFile.Close)
}

// spawn starts bin with its stdout and stderr going to the given writers (logPath is where
// they end up, for error messages); closeOutput, if not nil, runs once the process exited
// and its output was drained, or when it could not start.
func spawn(name, bin string, args, env []string, stdout, stderr io.Writer, logPath string, closeOutput func() error) (*process, error) {
	closeOut := func() {
		if closeOutput != nil {
			_ = closeOutput()
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Writers that are not files are fed through pipes: should something of the process
	// group outlive its leader and hold them open, stop waiting for it after a while.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		closeOut()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		closeOut()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the whole process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	// The leader may be gone while a child of it still holds the group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// exitError describes how a child died during start, with the tail of its log,
// which is what a person needs to see to understand why.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited during start (%v); last lines of %s:\n%s", p.name, p.waitErr, p.logPath, tailFile(p.logPath, 8))
}

func tailFile(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "  (no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(data, []byte("?"))), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	for i, l := range all {
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		all[i] = "  " + l
	}
	return strings.Join(all, "\n")
}

// waitFor polls check until it succeeds, the process p (if any) exits, or the timeout ends.
func waitFor(ctx context.Context, what string, p *process, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var exited <-chan struct{}
	if p != nil {
		exited = p.done
	}
	for {
		if p != nil && p.exited() {
			return p.exitError()
		}
		probeCtx, probeCancel := context.WithTimeout(ctx, 2*time.Second)
		lastErr := check(probeCtx)
		probeCancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ctx.Err()
			}
			if p != nil {
				return fmt.Errorf("%s not ready after %s: %v; last lines of %s:\n%s", what, timeout, lastErr, p.logPath, tailFile(p.logPath, 5))
			}
			return fmt.Errorf("%s: not ready after %s: %v", what, timeout, lastErr)
		case <-exited:
		case <-tick.C:
		}
	}
}
