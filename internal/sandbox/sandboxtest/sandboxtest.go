// Package sandboxtest starts one real sandbox per test package (from TestMain) and hands
// it to the tests; the end-to-end tests are built with the e2e tag and run by `make test`.
package sandboxtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
