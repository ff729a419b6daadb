// Package sandboxtest starts one real sandbox per test package (from TestMain) and hands
// it to the tests; the end-to-end tests are built with the e2e tag and run by `make test`.
package sandboxtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
)

var current *sandbox.Sandbox

// Main starts the sandbox (with the demo namespace seeded if seedDemo), runs the package's tests and stops it. On failure the
// sandbox's directory (component logs) is kept and its path printed.
func Main(m *testing.M, seedDemo bool) int {
	dir, err := os.MkdirTemp("", "pyroll-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts := sandbox.Options{Dir: dir, BinDir: ToolsBin(), Log: os.Stderr}
	if seedDemo {
		opts.Seed = demo.Seed
	}
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start sandbox: %v\n(sandbox files kept in %s)\n", err, dir)
		return 1
	}
	current = sb
	code := m.Run()
	_ = sb.Stop()
	if code == 0 {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "e2e: sandbox logs kept in %s\n", filepath.Join(dir, "logs"))
	}
	return code
}

// Start starts a sandbox of the test's own with opts (Dir and BinDir default to a temporary
// folder and ToolsBin, the log goes to the test's log) and stops it when the test ends: for a
// cluster unlike the package's, e.g. one that never had Argo Rollouts:
//
//	sb := sandboxtest.Start(t, sandbox.Options{NoArgo: true, Nodes: 1})
//
// It costs a control plane's start (half a minute or so), so only where the shared one will
// not do.
func Start(t testing.TB, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.BinDir == "" {
		opts.BinDir = ToolsBin()
	}
	log := &testLog{t: t}
	if opts.Log == nil {
		opts.Log = log
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start a sandbox of the test's own: %v", err)
	}
	t.Cleanup(func() {
		_ = sb.Stop()
		log.done.Store(true)
	})
	return sb
}

// testLog writes the sandbox's progress lines to the test's log, and drops them once the
// test is over (t.Log would panic then).
type testLog struct {
	t    testing.TB
	done atomic.Bool
}

func (l *testLog) Write(p []byte) (int, error) {
	if !l.done.Load() {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Get returns the package's running sandbox.
func Get(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	if current == nil {
		t.Fatal("no sandbox: call sandboxtest.Main from TestMain")
	}
	return current
}

// ToolsBin is where the control-plane binaries are: $PYROLL_TOOLS_BIN, or the repository's
// .cache/bin (what `make tools` builds).
func ToolsBin() string {
	if dir := os.Getenv("PYROLL_TOOLS_BIN"); dir != "" {
		return dir
	}
	return filepath.Join(RepoRoot(), ".cache", "bin")
}

// ProductBin is where `make build` puts kubectl-pyroll: $PYROLL_BIN or the repository's bin/.
func ProductBin() string {
	if dir := os.Getenv("PYROLL_BIN"); dir != "" {
		return dir
	}
	return filepath.Join(RepoRoot(), "bin")
}

// RepoRoot walks up from the working directory to the folder holding go.mod.
func RepoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
