//go:build e2e

// The sandbox's own tests: they test the test bed, not kubectl-pyroll. They exist to prove
// the bed's lifecycle is sound: a second sandbox in the same directory is refused, missing
// binaries say how to build them, and no process is left behind after a failed start or
// Ctrl-C, so that tests and `make demo` never leak a control plane. Named TestSandbox..., as
// in sandbox_cluster_test.go.

package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// processesMentioning lists running processes whose command line contains s.
func processesMentioning(s string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || e.Name() == "self" {
			continue
		}
		line := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(line, s) {
			found = append(found, e.Name()+": "+line)
		}
	}
	return found
}

func TestSandboxSecondInSameDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := sandbox.Start(ctx, sandbox.Options{Dir: dir, BinDir: sandboxtest.ToolsBin(), Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	_, err = sandbox.Start(ctx, sandbox.Options{Dir: dir, BinDir: sandboxtest.ToolsBin(), Nodes: 1})
	if !errors.Is(err, sandbox.ErrAlreadyRunning) || !strings.Contains(err.Error(), "make sandbox-down") {
		t.Fatalf("second start in the same dir: %v; want ErrAlreadyRunning with a hint", err)
	}
	// The first one is untouched.
	if _, err := first.Client().Discovery().ServerVersion(); err != nil {
		t.Fatalf("first sandbox broken by the refused second start: %v", err)
	}
}

// A component that dies during start fails Start with its name and log, and nothing the
// sandbox had started is left running.
func TestSandboxChildKilledDuringStartLeavesNothingRunning(t *testing.T) {
	bin := t.TempDir()
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kwok", "rollouts-controller"} {
		if err := os.Symlink(filepath.Join(sandboxtest.ToolsBin(), b), filepath.Join(bin, b)); err != nil {
			t.Fatal(err)
		}
	}
	crash := "#!/bin/sh\necho 'simulated scheduler crash' >&2\nkill -KILL $$\n"
	if err := os.WriteFile(filepath.Join(bin, "kube-scheduler"), []byte(crash), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err := sandbox.Start(context.Background(), sandbox.Options{Dir: dir, BinDir: bin, Nodes: 1})
	if err == nil || !strings.Contains(err.Error(), "kube-scheduler exited during start") || !strings.Contains(err.Error(), "simulated scheduler crash") {
		t.Fatalf("start with a crashing scheduler: %v; want the scheduler named with its log", err)
	}
	if left := processesMentioning(dir); len(left) > 0 {
		t.Fatalf("processes left behind after a failed start:\n%s", strings.Join(left, "\n"))
	}
}

func TestSandboxMissingBinariesSayHowToBuildThem(t *testing.T) {
	_, err := sandbox.Start(context.Background(), sandbox.Options{Dir: t.TempDir(), BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("start without binaries: %v; want a hint to run make tools", err)
	}
}

// `pyroll-sandbox up` (what `make sandbox` and `make demo` run) stops everything on Ctrl-C.
func TestSandboxUpStopsEverythingOnInterrupt(t *testing.T) {
	dir := t.TempDir()
	up := exec.Command(filepath.Join(sandboxtest.ProductBin(), "pyroll-sandbox"), "up", "--dir", dir, "--bin", sandboxtest.ToolsBin(), "--seed=false", "--nodes=1")
	out, err := os.Create(filepath.Join(t.TempDir(), "up.log"))
	if err != nil {
		t.Fatal(err)
	}
	up.Stdout, up.Stderr = out, out
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- up.Wait() }()
	eventually(t, 2*time.Minute, "sandbox up (env file written)", func(context.Context) error {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("pyroll-sandbox up exited during start: %v\n%s", err, log)
		default:
		}
		_, err := os.Stat(filepath.Join(dir, "env"))
		return err
	})
	if running := processesMentioning(dir); len(running) < 5 {
		t.Fatalf("expected the control plane running under %s, found:\n%s", dir, strings.Join(running, "\n"))
	}
	if err := up.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		log, _ := os.ReadFile(out.Name())
		t.Fatalf("pyroll-sandbox up after Ctrl-C: %v\n%s", err, log)
	}
	if left := processesMentioning(dir); len(left) > 0 {
		t.Fatalf("processes left behind after Ctrl-C:\n%s", strings.Join(left, "\n"))
	}
}
