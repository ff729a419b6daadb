package kube

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// maxLogBytes bounds what one request reads: the end of a log is what explains a crash.
const maxLogBytes = 512 << 10

// PodLogs reads the last tail lines of a pod's container ("" for its only or first one);
// with previous, of the container that ran before the last restart.
func PodLogs(ctx context.Context, client kubeapi.API, namespace, pod, container string, previous bool, tail int64) (string, error) {
	opts := &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &tail}
	limit := int64(maxLogBytes)
	opts.LimitBytes = &limit
	stream, err := client.PodLogs(ctx, namespace, pod, opts)
	if err != nil {
		return "", fmt.Errorf("logs of %s/%s: %w", namespace, pod, err)
	}
	defer stream.Close()
	data, err := io.ReadAll(io.LimitReader(stream, maxLogBytes))
	if err != nil {
		return string(data), fmt.Errorf("logs of %s/%s: %w", namespace, pod, err)
	}
	return string(data), nil
}
