package kube

import (
	"context"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// receiveUntil reads merged snapshots until one satisfies ok (the merger may fold several
// updates into one, so a test waits for the state, not for a count).
func receiveUntil(t *testing.T, merged <-chan rollout.Snapshot, what string, ok func(rollout.Snapshot) bool) rollout.Snapshot {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case snap, open := <-merged:
			if !open {
				t.Fatalf("%s: the merged stream closed", what)
			}
			if ok(snap) {
				return snap
			}
		case <-timeout:
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

func TestMergeSnapshotsShowsEachContextAsItComes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eu, us := make(chan rollout.Snapshot), make(chan rollout.Snapshot)
	merged := MergeSnapshots(ctx, []FleetMember{{Context: "prod-eu", Snapshots: eu}, {Context: "prod-us", Snapshots: us}})
	orders := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseProgressing}

	eu <- rollout.Snapshot{Synced: true, Conn: rollout.Connection{State: rollout.ConnLive}, Rollouts: []rollout.Rollout{orders}}
	snap := receiveUntil(t, merged, "eu's rows while us has said nothing", func(s rollout.Snapshot) bool { return len(s.Rollouts) == 1 })
	if snap.Synced || !snap.PodsSyncing || !snap.HasRows() {
		t.Errorf("synced %v podsSyncing %v: the fleet is not whole until us is read, but shows eu's rows", snap.Synced, snap.PodsSyncing)
	}
	if got := snap.Rollouts[0].Ref(); got.Cluster != "prod-eu" {
		t.Errorf("eu's rollout is %v, not tagged with its context", got)
	}
	if len(snap.Clusters) != 2 || snap.Clusters[0].Rollouts != 1 || !snap.Clusters[0].Synced || snap.Clusters[1].Conn.State != rollout.ConnSyncing {
		t.Errorf("clusters %+v", snap.Clusters)
	}

	us <- rollout.Snapshot{Conn: rollout.Connection{State: rollout.ConnReconnecting, Message: "connection refused"}}
	snap = receiveUntil(t, merged, "us reconnecting", func(s rollout.Snapshot) bool { return s.Conn.State == rollout.ConnReconnecting })
	if snap.Conn.Message != "context prod-us: connection refused" || len(snap.Rollouts) != 1 {
		t.Errorf("conn %+v, %d rollouts: the worst context's state, named, and eu's rows kept", snap.Conn, len(snap.Rollouts))
	}

	us <- rollout.Snapshot{Synced: true, Conn: rollout.Connection{State: rollout.ConnLive}, Rollouts: []rollout.Rollout{orders}}
	snap = receiveUntil(t, merged, "both read", func(s rollout.Snapshot) bool { return s.Synced })
	if snap.Conn.State != rollout.ConnLive || snap.PodsSyncing || len(snap.Rollouts) != 2 {
		t.Fatalf("conn %v podsSyncing %v rollouts %d", snap.Conn.State, snap.PodsSyncing, len(snap.Rollouts))
	}
	if a, b := snap.Rollouts[0].Ref(), snap.Rollouts[1].Ref(); a == b || a.Local() != b.Local() {
		t.Errorf("orders-api in two clusters: %v and %v", a, b)
	}
	// eu loses its picture, us keeps its own: the fleet is not whole any more.
	eu <- rollout.Snapshot{Conn: rollout.Connection{State: rollout.ConnReconnecting, Message: "etcd down"}}
	snap = receiveUntil(t, merged, "eu reconnecting", func(s rollout.Snapshot) bool { return s.Clusters[0].Conn.State == rollout.ConnReconnecting })
	if snap.Synced || !snap.Clusters[1].Synced {
		t.Errorf("synced %v with eu's picture gone (us synced %v)", snap.Synced, snap.Clusters[1].Synced)
	}
	// The members' snapshots are not changed (they are shared, immutable).
	if orders.Cluster != "" {
		t.Error("a member's rollout was tagged in place")
	}
}

func TestMergeSnapshotsClosesWhenEveryMemberHas(t *testing.T) {
	eu, us := make(chan rollout.Snapshot), make(chan rollout.Snapshot)
	merged := MergeSnapshots(context.Background(), []FleetMember{{Context: "eu", Snapshots: eu}, {Context: "us", Snapshots: us}})
	close(eu)
	us <- rollout.Snapshot{Synced: true}
	receiveUntil(t, merged, "us's snapshot after eu ended", func(s rollout.Snapshot) bool { return s.Clusters[1].Synced })
	close(us)
	select {
	case _, open := <-merged:
		if open {
			// One more merge may be on its way; the next read must see the close.
			if _, open := <-merged; open {
				t.Fatal("the merged stream outlives its members")
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the merged stream did not close")
	}
}
