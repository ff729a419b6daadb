package kube

import (
	"context"
	"strconv"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
)

// leaseServer is a fake clientset whose Leases keep resourceVersions as the API server
// does: each write bumps it, and an update with an old one conflicts; one without any is
// refused, so that dropping the precondition cannot go unnoticed.
func leaseServer() *fake.Clientset {
	client := fake.NewClientset()
	gvr := coordinationv1.SchemeGroupVersion.WithResource("leases")
	version := 0
	client.PrependReactor("create", "leases", func(action k8stesting.Action) (bool, runtime.Object, error) {
		lease := action.(k8stesting.CreateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		version++
		lease.ResourceVersion = strconv.Itoa(version)
		return true, lease, client.Tracker().Create(gvr, lease, lease.Namespace)
	})
	client.PrependReactor("update", "leases", func(action k8stesting.Action) (bool, runtime.Object, error) {
		lease := action.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		current, err := client.Tracker().Get(gvr, lease.Namespace, lease.Name)
		if err != nil {
			return true, nil, err
		}
		if lease.ResourceVersion == "" { // the API server would write it unconditionally
			return true, nil, apierrors.NewBadRequest("test: a Lease update without a resourceVersion precondition")
		}
		if current.(*coordinationv1.Lease).ResourceVersion != lease.ResourceVersion {
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), lease.Name, nil)
		}
		version++
		lease.ResourceVersion = strconv.Itoa(version)
		return true, lease, client.Tracker().Update(gvr, lease, lease.Namespace)
	})
	return client
}

func TestLeaseGoesToOneCandidateUntilItExpires(t *testing.T) {
	client := leaseServer()
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	candidate := func(id string) *LeaderElection {
		return &LeaderElection{Client: kubeapitest.FromClientset(client), Namespace: "guard", Name: "pyroll-guard", Identity: id,
			LeaseDuration: 15 * time.Second, Now: clock}
	}
	a, b := candidate("a"), candidate("b")
	ctx := context.Background()
	if ok, err := a.TryAcquireOrRenew(ctx); !ok || err != nil {
		t.Fatalf("a on a free lease: %v, %v", ok, err)
	}
	if ok, err := b.TryAcquireOrRenew(ctx); ok || err != nil {
		t.Fatalf("b while a holds the lease: %v, %v; want refused", ok, err)
	}
	now = now.Add(10 * time.Second)
	if ok, _ := a.TryAcquireOrRenew(ctx); !ok {
		t.Fatal("a renews its own lease")
	}
	now = now.Add(14 * time.Second)
	if ok, _ := b.TryAcquireOrRenew(ctx); ok {
		t.Fatal("b took a lease renewed 14s ago (duration 15s)")
	}
	now = now.Add(16 * time.Second) // a stopped renewing (killed): b saw the same renewal for 30s
	if ok, err := b.TryAcquireOrRenew(ctx); !ok || err != nil {
		t.Fatalf("b after a's lease expired: %v, %v", ok, err)
	}
	lease, _ := client.CoordinationV1().Leases("guard").Get(ctx, "pyroll-guard", metav1.GetOptions{})
	if *lease.Spec.HolderIdentity != "b" || *lease.Spec.LeaseTransitions != 1 {
		t.Errorf("lease %+v; want held by b after one transition", lease.Spec)
	}
	if ok, _ := a.TryAcquireOrRenew(ctx); ok {
		t.Error("a came back and took b's fresh lease")
	}
}

// Two candidates that read the same expired lease: the resourceVersion lets one win. b
// reads the expired lease, and a renews it before b's write lands: b's write conflicts,
// b is not leader, a still is.
func TestLeaseRaceHasOneWinner(t *testing.T) {
	client := leaseServer()
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := context.Background()
	a := &LeaderElection{Client: kubeapitest.FromClientset(client), Namespace: "guard", Name: "l", Identity: "a", LeaseDuration: 15 * time.Second, Now: clock}
	b := &LeaderElection{Client: kubeapitest.FromClientset(client), Namespace: "guard", Name: "l", Identity: "b", LeaseDuration: 15 * time.Second, Now: clock}
	if ok, _ := a.TryAcquireOrRenew(ctx); !ok {
		t.Fatal("a on a free lease")
	}
	if ok, _ := b.TryAcquireOrRenew(ctx); ok {
		t.Fatal("b took a's fresh lease")
	}
	now = now.Add(20 * time.Second) // b has seen the same renewal for 20s: expired for b
	gvr := coordinationv1.SchemeGroupVersion.WithResource("leases")
	raced := false
	client.PrependReactor("update", "leases", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if lease := action.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease); !raced && *lease.Spec.HolderIdentity == "b" {
			raced = true // a renews between b's read and b's write
			current, _ := client.Tracker().Get(gvr, "guard", "l")
			renewed := current.(*coordinationv1.Lease).DeepCopy()
			renewed.ResourceVersion = "renewed-by-a"
			if err := client.Tracker().Update(gvr, renewed, "guard"); err != nil {
				t.Fatal(err)
			}
		}
		return false, nil, nil
	})
	if ok, err := b.TryAcquireOrRenew(ctx); ok || err != nil || !raced {
		t.Fatalf("b's write on a lease a renewed meanwhile: won %v, %v (raced %v); want a lost race, no error", ok, err, raced)
	}
	lease, _ := client.CoordinationV1().Leases("guard").Get(ctx, "l", metav1.GetOptions{})
	if *lease.Spec.HolderIdentity != "a" {
		t.Errorf("holder %s after the race; want a", *lease.Spec.HolderIdentity)
	}
}

// Run releases the lease when its context ends, so a standby takes over at once.
func TestRunReleasesOnStop(t *testing.T) {
	client := leaseServer()
	ctx, cancel := context.WithCancel(context.Background())
	led := make(chan struct{})
	e := &LeaderElection{Client: kubeapitest.FromClientset(client), Namespace: "guard", Name: "l", Identity: "a", RetryPeriod: 10 * time.Millisecond}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx, func(ctx context.Context) { close(led); <-ctx.Done() })
	}()
	<-led
	cancel()
	<-done
	lease, err := client.CoordinationV1().Leases("guard").Get(context.Background(), "l", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity != nil {
		t.Errorf("after stop: %+v, %v; want no holder", lease, err)
	}
}
