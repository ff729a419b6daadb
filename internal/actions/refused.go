package actions

import (
	"errors"
	"fmt"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
)

// ErrRefused matches (errors.Is) every *RefusedError.
var ErrRefused = errors.New("refused")

// RefusedError: the access forbids the action (read-only), so nothing was read or written.
// The console shows it, the jump host's audit log records it.
type RefusedError struct {
	Request intent.Request
	// Reason is why, in the user's words: "read-only: this key has no pyroll-write".
	Reason string
}

func (e *RefusedError) Error() string {
	t := e.Request.Target
	return fmt.Sprintf("%s %s/%s refused: %s", e.Request.Action.Name(t.Kind), t.Namespace, t.Name, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
