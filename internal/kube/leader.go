package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	utilptr "k8s.io/utils/ptr"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// LeaderElection elects one leader among replicas on a coordination.k8s.io Lease, with
// the semantics of client-go's tools/leaderelection: a candidate takes a lease nobody
// renewed for LeaseDuration (as it observed it: clocks of two machines are not
// compared), the leader renews every RetryPeriod and steps down when it could not renew
// for RenewDeadline, and a leader that stops releases the lease so another takes over at
// once. client-go's package is not used because it links the whole generated clientset
// (its resourcelock package imports every typed client and registers every API group at
// start), which would cost the console ~15 MB of resident memory (DESIGN.md §9) for two
// calls; this one speaks through kubeapi.
type LeaderElection struct {
	Client                    kubeapi.API
	Namespace, Name, Identity string
	// LeaseDuration (default 15s), RenewDeadline (10s) and RetryPeriod (2s) are client-go's.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Now                                       func() time.Time
	// Log receives leadership changes and lease errors (one line each).
	Log func(format string, args ...any)

	observedTime time.Time
	observedRV   string
}

// Run campaigns until ctx ends. Each time it becomes leader it calls lead with a context
// that ends when leadership is lost (or ctx ends), waits for lead to return, and, when
// ctx has not ended, campaigns again. When ctx ends it releases the lease if it holds it.
func (e *LeaderElection) Run(ctx context.Context, lead func(ctx context.Context)) {
	e.defaults()
	for ctx.Err() == nil {
		if !e.acquire(ctx) {
			return
		}
		e.log("leader election: %s leads (lease %s/%s)", e.Identity, e.Namespace, e.Name)
		leading, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); lead(leading) }()
		e.renewUntilLost(leading)
		stop()
		<-done
		if ctx.Err() != nil {
			e.release()
			return
		}
		e.log("leader election: %s lost the lease %s/%s; campaigning again", e.Identity, e.Namespace, e.Name)
	}
}

func (e *LeaderElection) defaults() {
	if e.LeaseDuration <= 0 {
		e.LeaseDuration = 15 * time.Second
	}
	if e.RenewDeadline <= 0 {
		e.RenewDeadline = 10 * time.Second
	}
	if e.RetryPeriod <= 0 {
		e.RetryPeriod = 2 * time.Second
	}
	if e.Now == nil {
		e.Now = time.Now
	}
}

// acquire tries every RetryPeriod (jittered) until it holds the lease (true) or ctx ends.
func (e *LeaderElection) acquire(ctx context.Context) bool {
	for {
		ok, err := e.TryAcquireOrRenew(ctx)
		if err != nil {
			e.log("leader election: %v", err)
		}
		if ok {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait.Jitter(e.RetryPeriod, 1.2)):
		}
	}
}

// renewUntilLost renews every RetryPeriod; it returns when a renewal did not succeed
// within RenewDeadline (leadership lost) or ctx ends.
func (e *LeaderElection) renewUntilLost(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(e.RetryPeriod):
		}
		err := wait.PollUntilContextTimeout(ctx, e.RetryPeriod/2, e.RenewDeadline, true, func(ctx context.Context) (bool, error) {
			ok, err := e.TryAcquireOrRenew(ctx)
			if err != nil {
				e.log("leader election: renewing: %v", err)
			}
			return ok, nil
		})
		if err != nil && ctx.Err() == nil {
			return
		}
	}
}

// TryAcquireOrRenew takes the lease if it is free or expired, or renews it if held; one
// read and at most one write, guarded by resourceVersion (two candidates never both win).
func (e *LeaderElection) TryAcquireOrRenew(ctx context.Context) (bool, error) {
	e.defaults()
	now := e.Now()
	leases := e.Client.Leases(e.Namespace)
	mine := coordinationv1.LeaseSpec{
		HolderIdentity:       utilptr.To(e.Identity),
		LeaseDurationSeconds: utilptr.To(int32(e.LeaseDuration / time.Second)),
		AcquireTime:          &metav1.MicroTime{Time: now},
		RenewTime:            &metav1.MicroTime{Time: now},
	}
	lease, err := leases.Get(ctx, e.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		mine.LeaseTransitions = utilptr.To(int32(0))
		created, err := leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: e.Name, Namespace: e.Namespace}, Spec: mine}, metav1.CreateOptions{FieldManager: fieldManager})
		if err != nil {
			return false, fmt.Errorf("create lease %s/%s: %w", e.Namespace, e.Name, err)
		}
		e.observe(created, now)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read lease %s/%s: %w", e.Namespace, e.Name, err)
	}
	if lease.ResourceVersion != e.observedRV {
		e.observe(lease, now)
	}
	holder := utilptr.Deref(lease.Spec.HolderIdentity, "")
	held := holder != "" && holder != e.Identity
	if held && e.observedTime.Add(time.Duration(utilptr.Deref(lease.Spec.LeaseDurationSeconds, 0))*time.Second).After(now) {
		return false, nil // someone else holds a lease that has not expired
	}
	transitions := utilptr.Deref(lease.Spec.LeaseTransitions, 0)
	if holder == e.Identity {
		mine.AcquireTime = lease.Spec.AcquireTime
	} else {
		transitions++
	}
	mine.LeaseTransitions = utilptr.To(transitions)
	updated := lease.DeepCopy()
	updated.Spec = mine
	written, err := leases.Update(ctx, updated, metav1.UpdateOptions{FieldManager: fieldManager})
	if apierrors.IsConflict(err) {
		return false, nil // another candidate wrote first
	}
	if err != nil {
		return false, fmt.Errorf("update lease %s/%s: %w", e.Namespace, e.Name, err)
	}
	e.observe(written, now)
	return true, nil
}

func (e *LeaderElection) observe(lease *coordinationv1.Lease, now time.Time) {
	e.observedTime, e.observedRV = now, lease.ResourceVersion
}

// release gives the lease up (as client-go's ReleaseOnCancel does: no holder, a one
// second duration), so another replica takes over at once rather than after it expires.
func (e *LeaderElection) release() {
	ctx, cancel := context.WithTimeout(context.Background(), e.RenewDeadline)
	defer cancel()
	leases := e.Client.Leases(e.Namespace)
	lease, err := leases.Get(ctx, e.Name, metav1.GetOptions{})
	if err != nil || utilptr.Deref(lease.Spec.HolderIdentity, "") != e.Identity {
		return
	}
	now := metav1.MicroTime{Time: e.Now()}
	lease.Spec.HolderIdentity = nil
	lease.Spec.LeaseDurationSeconds = utilptr.To(int32(1))
	lease.Spec.RenewTime, lease.Spec.AcquireTime = &now, &now
	if _, err := leases.Update(ctx, lease, metav1.UpdateOptions{FieldManager: fieldManager}); err != nil && !errors.Is(err, context.Canceled) {
		e.log("leader election: releasing the lease: %v", err)
		return
	}
	e.log("leader election: %s released the lease %s/%s", e.Identity, e.Namespace, e.Name)
}

func (e *LeaderElection) log(format string, args ...any) {
	if e.Log != nil {
		e.Log(format, args...)
	}
}

// fieldManager names the Lease writes as every other write of kubectl-pyroll's
// (actions.FieldManager; internal/kube cannot import actions).
const fieldManager = "kubectl-pyroll"
