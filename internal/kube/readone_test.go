package kube

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// ReadOne reads the Deployment, its ReplicaSets, their pods and its events. Events come
// from two field-selected lists; a server that ignores field selectors (this fake, an old
// proxy) must not double them.
func TestReadOneReadsEachObjectOnce(t *testing.T) {
	d, rs := testDeployment()
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}
	rs.Labels = map[string]string{"app": "api"}
	pod := testPod(0)
	pod.Labels = map[string]string{"app": "api"}
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "api.1", Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "api", UID: d.UID}, Reason: "ScalingReplicaSet"}
	client := fake.NewClientset(d, rs, pod, event)
	objs, err := ReadOne(context.Background(), kubeapitest.FromClientset(client), ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Deployments) != 1 || len(objs.ReplicaSets) != 1 || len(objs.Pods) != 1 || len(objs.Events) != 1 {
		t.Errorf("read %d deployments, %d replicasets, %d pods, %d events; want 1 each",
			len(objs.Deployments), len(objs.ReplicaSets), len(objs.Pods), len(objs.Events))
	}
	if _, err := ReadOne(context.Background(), kubeapitest.FromClientset(client), ref.Rollout{Kind: ref.ArgoRollout, Namespace: "shop", Name: "api"}); err == nil {
		t.Error("an Argo Rollout read as if it were supported")
	}
}
