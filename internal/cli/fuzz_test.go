package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/hostile"
	"github.com/pyroll/kubectl-pyroll/internal/textfmt"
)

// The status table keeps its columns whatever the text: 80 cells a line, each rollout at
// most three lines, WHY under itself, nothing unsafe; the JSON stays JSON.
func FuzzStatusColumns(f *testing.F) {
	f.Add("orders-api", "shop", "1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'", int64(2))
	f.Add(hostile.Deployment, hostile.Namespace, hostile.Huge, int64(12))
	f.Add("日本語のサービス", "名前空間", "理由 "+strings.Repeat("とても長い説明 ", 20), int64(1))
	f.Add("a", "", "", int64(0))
	for _, v := range hostile.Values {
		f.Add(v, v, v+" "+v, int64(3))
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, name, namespace, why string, revision int64) {
		rollouts := []rollout.Rollout{
			{Namespace: string(safetext.Line(namespace)), Name: string(safetext.Line(name)), Phase: rollout.PhaseDegraded, Why: safetext.Line(why),
				CanaryRevision: revision, StableRevision: revision / 2, StartedAt: now.Add(-time.Hour)},
			{Namespace: "shop", Name: "b", Phase: rollout.PhaseComplete, CanaryRevision: 3, Why: "3/3 available", StartedAt: now},
		}
		var out, errOut bytes.Buffer
		if err := newStatusPrinter(&out, &errOut, "table", true, "ctx", "").all(rollouts, now); err != nil {
			t.Fatal(err)
		}
		if _, _, bad := safetext.Unsafe(out.String()); bad {
			t.Fatalf("unsafe table:\n%q", out.String())
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) > 1+3*len(rollouts) {
			t.Fatalf("%d lines for %d rollouts:\n%s", len(lines), len(rollouts), out.String())
		}
		for _, l := range lines {
			if w := textfmt.Width(l); w > tableWidth {
				t.Fatalf("a line of %d cells:\n%s", w, out.String())
			}
		}
		if !strings.HasPrefix(lines[len(lines)-1], "shop/b ") {
			t.Fatalf("the last row does not start with its name:\n%s", out.String())
		}
		out.Reset()
		if err := newStatusPrinter(&out, &errOut, "json", true, "ctx", "").all(rollouts, now); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("invalid JSON:\n%s", out.String())
		}
		if _, _, bad := safetext.Unsafe(out.String()); bad {
			t.Fatalf("unsafe JSON:\n%q", out.String())
		}
	})
}
