//go:build e2e

// Package e2e drives kubectl-pyroll and the sandbox against a real control plane. Run with
// `make test` (or `make e2e`); it needs `make tools` and `make deps` first. The tests of the
// sandbox itself, which prove the test bed is real, are e2e/sandbox_*_test.go, each named
// TestSandbox... (`-run TestSandbox` selects exactly them).
package e2e

import (
	"os"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) {
	// A release completed in a test is Complete, as before the bake window: the tests of
	// the bake window (TestBake*) give their Deployments pyroll.dev/bake-time, which wins.
	os.Setenv("PYROLL_BAKE_TIME", "0")
	os.Exit(sandboxtest.Main(m, true))
}
