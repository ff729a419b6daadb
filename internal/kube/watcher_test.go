package kube

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

func testDeployment() (*appsv1.Deployment, *appsv1.ReplicaSet) {
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", UID: "d1", Generation: 1,
			Annotations: map[string]string{rollout.RevisionAnnotation: "1"}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "api:1"}}},
		}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2},
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "api-abc", Namespace: "shop", UID: "rs1",
			Annotations:     map[string]string{rollout.RevisionAnnotation: "1"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "api", UID: "d1", Controller: ptr(true)}}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &replicas, Template: d.Spec.Template},
		Status: appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 2},
	}
	return d, rs
}

func ptr[T any](v T) *T { return &v }

func testPod(i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("api-abc-%d", i), Namespace: "shop", UID: types.UID(fmt.Sprint("p", i)),
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api-abc", UID: "rs1", Controller: ptr(true)}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
}

func nextSynced(t *testing.T, ch <-chan rollout.Snapshot, cond func(rollout.Snapshot) bool) rollout.Snapshot {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if s.Synced && cond(s) {
				return s
			}
		case <-timeout:
			t.Fatal("no matching snapshot within 10s")
		}
	}
}

func TestWatcherBuildsSnapshotsFromInformers(t *testing.T) {
	d, rs := testDeployment()
	client := fake.NewClientset(d, rs, testPod(0), testPod(1))
	cluster := &Cluster{Client: kubeapitest.FromClientset(client), Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := NewWatcher(cluster, WatchOptions{Namespace: "shop"}).Run(ctx)

	first := nextSynced(t, snaps, func(rollout.Snapshot) bool { return true })
	if len(first.Rollouts) != 1 || first.Rollouts[0].Phase != rollout.PhaseComplete || len(first.Rollouts[0].Revisions[0].Pods) != 2 {
		t.Fatalf("first snapshot: %+v", first.Rollouts)
	}
	if first.Conn.State != rollout.ConnLive {
		t.Errorf("state %s, want live", first.Conn.State)
	}

	crashing := testPod(1)
	crashing.Status.Conditions[0].Status = corev1.ConditionFalse
	crashing.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}
	if _, err := client.CoreV1().Pods("shop").UpdateStatus(ctx, crashing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	nextSynced(t, snaps, func(s rollout.Snapshot) bool {
		return len(s.Rollouts) == 1 && s.Rollouts[0].Phase == rollout.PhaseDegraded
	})
}

// A burst of events becomes one snapshot. The watcher's clock is a fake that moves only when
// the test steps it, so the counts are exact: 200 pod events handled while the clock stands
// still send no snapshot; one coalescing window later they send exactly one, holding all 200
// pods; and the burst leaves nothing pending behind it: after another window without a change,
// the next snapshot is the one of the next change. Only the snapshots until the first synced
// one come before (the clock is stepped until then).
func TestWatcherCoalescesBursts(t *testing.T) {
	d, rs := testDeployment()
	client := fake.NewClientset(d, rs)
	cluster := &Cluster{Client: kubeapitest.FromClientset(client), Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const window = 50 * time.Millisecond
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	w := NewWatcher(cluster, WatchOptions{Namespace: "shop", Coalesce: window, Clock: clk})
	snaps := w.Run(ctx)
	stepUntilSynced(t, clk, snaps, window)

	const burst = 200
	for i := 0; i < burst; i++ {
		if _, err := client.CoreV1().Pods("shop").Create(ctx, testPod(i), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The Deployment's and the ReplicaSet's adds, then the burst; the loop waits out the window
	// on the clock (its connection poll's ticker is the other waiter).
	waitWithoutSnapshot(t, snaps, "the burst handled and the loop waiting for the window", func() bool {
		return w.handled.Load() >= 2+burst && clk.Waiters() == 2
	})
	clk.Step(window)
	if got := podsIn(t, receive(t, snaps)); got != burst {
		t.Fatalf("the snapshot after the window holds %d pods, want all %d", got, burst)
	}

	clk.Step(window)
	if _, err := client.CoreV1().Pods("shop").Create(ctx, testPod(burst), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := podsIn(t, receive(t, snaps)); got != burst+1 {
		t.Errorf("the next snapshot holds %d pods, want %d: the burst sent a second snapshot", got, burst+1)
	}
}

// stepUntilSynced moves the clock a window at a time until the watcher sends a synced
// snapshot: before that, its snapshots wait for the window or the connection poll.
func stepUntilSynced(t *testing.T, clk *clocktesting.FakeClock, snaps <-chan rollout.Snapshot, window time.Duration) {
	t.Helper()
	stepUntil(t, clk, snaps, window, func(s rollout.Snapshot) bool { return s.Synced })
}

// waitWithoutSnapshot waits until cond holds, failing if a snapshot comes first.
func waitWithoutSnapshot(t *testing.T, snaps <-chan rollout.Snapshot, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case s := <-snaps:
			t.Fatalf("a snapshot (%d pods) before the window elapsed: the burst is not coalesced", podsIn(t, s))
		case <-poll.C:
		case <-deadline:
			t.Fatalf("not within 10s: %s", what)
		}
	}
}

func receive(t *testing.T, snaps <-chan rollout.Snapshot) rollout.Snapshot {
	t.Helper()
	select {
	case s := <-snaps:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot within 10s")
		return rollout.Snapshot{}
	}
}

func podsIn(t *testing.T, s rollout.Snapshot) int {
	t.Helper()
	if len(s.Rollouts) != 1 || len(s.Rollouts[0].Revisions) == 0 {
		t.Fatalf("snapshot: %+v", s.Rollouts)
	}
	return len(s.Rollouts[0].Revisions[0].Pods)
}

func TestStripForCacheKeepsWhatViewsRead(t *testing.T) {
	p := testPod(0)
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	p.Annotations = map[string]string{"big": string(make([]byte, 10000))}
	p.Spec.Volumes = []corev1.Volume{{Name: "token"}}
	p.Spec.Containers = []corev1.Container{{Name: "app", Image: "api:1", Env: []corev1.EnvVar{{Name: "A", Value: "b"}}}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Ready: true, ImageID: "api@sha256:1"}}
	out, err := stripForCache(p)
	if err != nil {
		t.Fatal(err)
	}
	facts := out.(*rollout.PodFacts)
	if key, err := cache.MetaNamespaceKeyFunc(facts); err != nil || key != "shop/"+p.Name {
		t.Errorf("a watch cache keys the pod as %q (%v), want shop/%s", key, err, p.Name)
	}
	if facts.View.Name != p.Name || facts.Namespace != "shop" || facts.Owner != "rs1" || !facts.View.Ready || facts.View.Phase != "Running" ||
		len(facts.Images) != 1 || facts.Images[0].ImageID != "api@sha256:1" {
		t.Errorf("transform dropped what the views read: %+v", facts)
	}
	// client-go may transform an object twice (watch-list's temporary store, then the queue).
	again, err := stripForCache(out)
	if err != nil || again != out {
		t.Errorf("transforming twice changed the object: %v, %v", again, err)
	}
}

// A canary pod that stays not ready, with no further event from the API server: the
// watcher rebuilds when its grace ends, and the rollout turns Degraded.
func TestWatcherRebuildsWhenAGraceEnds(t *testing.T) {
	d, rs := testDeployment()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	unready := testPod(0)
	unready.CreationTimestamp = metav1.NewTime(start)
	unready.Status.Conditions[0].Status = corev1.ConditionFalse
	unready.Status.Conditions[0].LastTransitionTime = metav1.NewTime(start)
	client := fake.NewClientset(d, rs, unready, testPod(1))
	cluster := &Cluster{Client: kubeapitest.FromClientset(client), Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clocktesting.NewFakeClock(start)
	snaps := NewWatcher(cluster, WatchOptions{Namespace: "shop", Clock: clk, NotReadyGrace: time.Minute}).Run(ctx)
	stepUntilSynced(t, clk, snaps, 50*time.Millisecond)
	// The clock moves past the grace in connection-poll steps; no object changes.
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-snaps:
			if len(s.Rollouts) == 1 && s.Rollouts[0].Phase == rollout.PhaseDegraded {
				if clk.Now().Before(start.Add(time.Minute)) {
					t.Fatalf("Degraded at %v, before the grace ended", clk.Now())
				}
				return
			}
		case <-time.After(time.Millisecond):
			clk.Step(connPoll)
		case <-deadline:
			t.Fatalf("no Degraded snapshot by %v (grace ended at %v)", clk.Now(), start.Add(time.Minute))
		}
	}
}
