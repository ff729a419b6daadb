package sandbox

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The scrape target's pod_template_hash names the revision for both kinds of rollout.
func TestPodTemplateHashOfDeploymentAndArgoPods(t *testing.T) {
	for _, c := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"pod-template-hash": "5d8f7c9b4"}, "5d8f7c9b4"},
		{map[string]string{"rollouts-pod-template-hash": "6b7c8d9f5"}, "6b7c8d9f5"},
		{map[string]string{"pod-template-hash": "5d8f7c9b4", "rollouts-pod-template-hash": "6b7c8d9f5"}, "5d8f7c9b4"},
		{map[string]string{"app": "x"}, ""},
	} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: c.labels}}
		if got := podTemplateHash(pod); got != c.want {
			t.Errorf("labels %v: pod_template_hash %q, want %q", c.labels, got, c.want)
		}
	}
}
