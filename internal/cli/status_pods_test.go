package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// `status` answers once every pod is read: a snapshot with the rows but the pods still
// syncing is no answer (a crash loop is read from the pods). With --no-wait-pods it
// answers then, each rollout "pods": "syncing" in -o json.
func TestStatusWaitsForThePodsUnlessToldNotTo(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	early := rollout.Snapshot{PodsSyncing: true, PodsRead: 1000, At: at, Conn: rollout.Connection{State: rollout.ConnSyncing},
		Rollouts: []rollout.Rollout{{Kind: "Deployment", Namespace: "shop", Name: "api", Phase: rollout.PhaseProgressing, Pods: rollout.PodsSyncing}}}
	for _, noWait := range []bool{false, true} {
		var stdout, stderr bytes.Buffer
		o := &StatusOptions{Options: &Options{}, Output: "json", NoWaitPods: noWait}
		o.Out, o.ErrOut = &stdout, &stderr
		run := &statusRun{StatusOptions: o, src: statusSource{named: ref.Rollout{}}, printer: newStatusPrinter(&stdout, &stderr, "json", false, "ctx", "shop")}
		done, err := run.onSnapshot(context.Background(), early)
		if done != noWait || err != nil {
			t.Fatalf("--no-wait-pods=%v: done %v (%v) on a snapshot with the pods syncing; want done only with the flag", noWait, done, err)
		}
		if !noWait {
			if stdout.Len() > 0 {
				t.Errorf("printed before the pods were read:\n%s", stdout.String())
			}
			continue
		}
		var doc struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			t.Fatalf("%v:\n%s", err, stdout.String())
		}
		if len(doc.Items) != 1 || doc.Items[0]["pods"] != "syncing" {
			t.Errorf("-o json with --no-wait-pods: %s; want the rollout with \"pods\": \"syncing\"", stdout.String())
		}
	}
}
