//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

var deleteNow = metav1.DeleteOptions{}

// newNamespace creates a namespace of the test's own (name derived from the test) and
// deletes it when the test ends.
func newNamespace(t *testing.T) string {
	t.Helper()
	sb := sandboxtest.Get(t)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	name = "e2e-" + strings.Trim(name, "-")
	ctx := context.Background()
	if err := workload.EnsureNamespace(ctx, sb.Client(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sb.Client().CoreV1().Namespaces().Delete(context.Background(), name, deleteNow)
	})
	return name
}

// eventually polls cond every 200ms until it returns nil or timeout passes, then fails
// the test with cond's last error.
func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = cond(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: not true after %s: %v", what, timeout, last)
	}
}

// consistently checks cond every 200ms for the whole window and fails the test at the
// first error: how a test says "nothing happens" without sleeping blind.
func consistently(t *testing.T, window time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(window)
	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	for now := time.Now(); now.Before(deadline); now = <-ticker.C {
		if err := cond(); err != nil {
			t.Fatalf("%s: not true after %s: %v", what, window-time.Until(deadline), err)
		}
	}
	if err := cond(); err != nil {
		t.Fatalf("%s: not true at the end of %s: %v", what, window, err)
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
