package sandbox

// The state directory (Options.Dir): its lock (one sandbox per directory), the process
// groups recorded for `pyroll-sandbox down`, and the env file `pyroll-sandbox env` prints.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrAlreadyRunning is returned when another sandbox holds the state directory.
var ErrAlreadyRunning = errors.New("a sandbox is already running")

func lockState(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sandbox lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		holder := "another process"
		if data, err := os.ReadFile(filepath.Join(dir, "pids")); err == nil {
			if first, _, ok := strings.Cut(string(data), "\n"); ok {
				holder = "pid " + first
			}
		}
		return nil, fmt.Errorf("%w in %s (%s): use it (source %s) or stop it first (make sandbox-down)",
			ErrAlreadyRunning, dir, holder, filepath.Join(dir, "env"))
	}
	return f, nil
}

// recordPIDs keeps the process groups on disk so `down` can clean up even after the
// sandbox process itself was killed with SIGKILL.
func (s *Sandbox) recordPIDs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", os.Getpid())
	for _, p := range s.procs {
		fmt.Fprintf(&b, "%d\n", p.pid())
	}
	_ = os.WriteFile(s.path("pids"), []byte(b.String()), 0o644)
}

// StopRecorded stops a sandbox that runs (or ran and died) in dir, from another process:
// it signals the sandbox process and then kills whatever recorded process group is left.
func StopRecorded(dir string) (stopped bool, err error) {
	pids, err := RecordedPIDs(dir)
	if err != nil {
		return false, err
	}
	if len(pids) == 0 {
		return false, nil
	}
	owner := pids[0]
	if syscall.Kill(owner, syscall.SIGTERM) == nil {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && syscall.Kill(owner, 0) == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, pid := range pids[1:] {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	_ = os.Remove(filepath.Join(dir, "pids"))
	return true, nil
}

func (s *Sandbox) writeEnvFile() error {
	env := fmt.Sprintf("export KUBECONFIG=%s\nexport PYROLL_PROMETHEUS_URL=%s\n", s.Kubeconfig, s.PrometheusURL)
	return os.WriteFile(s.path("env"), []byte(env), 0o644)
}

// RecordedPIDs are the process ids a sandbox running in dir recorded: its own first, then
// the process group of each component it started (none when no sandbox runs there).
func RecordedPIDs(dir string) ([]int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pids"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, line := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(line); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
