package kubeapi

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Message is what the API server said, without client-go's wrapping: "deployments.apps
// \"x\" is forbidden: User \"viewer\" cannot patch ..."; any other error as it reads.
func Message(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}
