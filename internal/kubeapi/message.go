package kubeapi

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Message is what the API server said, without client-go's wrapping: "deployments.apps
// \"x\" is forbidden: User \"viewer\" cannot patch ..."; any other error as it reads. It
// is one safetext.Line: an admission webhook, for one, may say anything.
func Message(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return string(safetext.Line(status.Status().Message))
	}
	return string(safetext.Line(err.Error()))
}
