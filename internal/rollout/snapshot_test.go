package rollout

import "testing"

// An early answer (status --no-wait-pods) waits for every context's rows, not the first.
func TestEveryContextHasRows(t *testing.T) {
	one := Snapshot{Clusters: []ClusterState{{Context: "eu", PodsSyncing: true}, {Context: "us"}}, PodsSyncing: true}
	if one.EveryContextHasRows() {
		t.Error("us has no rows yet")
	}
	one.Clusters[1].Synced = true
	if !one.EveryContextHasRows() {
		t.Error("both have rows")
	}
	single := Snapshot{PodsSyncing: true}
	if !single.EveryContextHasRows() {
		t.Error("one context: HasRows")
	}
}
