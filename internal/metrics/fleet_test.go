package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// Each context's numbers stay its own; one context's Prometheus failing leaves the
// others' numbers and says which failed; the report fails only when all did.
func TestMergeReportsKeepsEachContextApart(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	eu := Key{Rollout: ref.Rollout{Cluster: "eu", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api"}, Revision: 2}
	us := eu
	us.Rollout.Cluster = "us"
	merged := MergeReports([]ContextReport{
		{Context: "eu", Report: Report{At: at, Revisions: map[Key]Revision{eu: {State: StateOK, ErrorRate: 0.05}}, Preset: "flask"}},
		{Context: "us", Report: Report{At: at.Add(time.Second), Revisions: map[Key]Revision{us: {State: StateUnreachable}}, Err: errors.New("connection refused"), Preset: "flask"}},
	})
	if merged.Err != nil || merged.Revisions[eu].ErrorRate != 0.05 || merged.Revisions[us].State != StateUnreachable {
		t.Fatalf("merged %+v", merged)
	}
	if !merged.At.Equal(at.Add(time.Second)) || merged.Preset != "flask" {
		t.Errorf("at %s, preset %q", merged.At, merged.Preset)
	}
	if len(merged.Warnings) != 1 || merged.Warnings[0] != "context us: connection refused" {
		t.Errorf("warnings %q", merged.Warnings)
	}
	all := MergeReports([]ContextReport{
		{Context: "eu", Report: Report{Err: errors.New("timeout")}},
		{Context: "us", Report: Report{Err: errors.New("connection refused")}},
	})
	if all.Err == nil || !strings.Contains(all.Err.Error(), "context eu: timeout") || !strings.Contains(all.Err.Error(), "context us: connection refused") {
		t.Errorf("every context failed: %v", all.Err)
	}
}

// A context without Prometheus is off, not failing: the report stands on the others'.
func TestMergeReportsContextWithoutPrometheus(t *testing.T) {
	eu := Key{Rollout: ref.Rollout{Cluster: "eu", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api"}, Revision: 2}
	merged := MergeReports([]ContextReport{
		{Context: "eu", Report: Report{Revisions: map[Key]Revision{eu: {State: StateOK}}, Err: errors.New("timeout")}},
		{Context: "us", Off: true},
	})
	if merged.Err == nil || !merged.Off["us"] || merged.Off["eu"] {
		t.Errorf("eu's Prometheus failing and us without one: err %v, off %v", merged.Err, merged.Off)
	}
}
