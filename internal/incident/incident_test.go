package incident

import (
	"errors"
	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

var taken = time.Date(2026, 11, 23, 3, 15, 0, 0, time.UTC)

func evidence() Evidence {
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseDegraded, Why: "1/1 canary pods CrashLoopBackOff",
		CanaryRevision: 2, StableRevision: 1,
		Revisions: []rollout.Revision{
			{Number: 2, Role: rollout.RoleCanary, Provenance: provenance.Provenance{GitSHA: "3f2a9c1b7e5d", LockHash: "sha256:7a6b"},
				Pods: []*rollout.Pod{{Name: "orders-api-new-a", Reason: rollout.ReasonCrashLoop, Restarts: 4, Hint: "ModuleNotFoundError: No module named 'orjson'"}}},
			{Number: 1, Role: rollout.RoleStable, Provenance: provenance.Provenance{GitSHA: "9b01d4e6a2c8", Warnings: []safetext.Text{"tag | moved"}}},
		},
		Events: []rollout.Event{{Time: taken, Type: "Warning", Reason: "BackOff", Object: "Pod/orders-api-new-a", Message: "line one\nline | two"}},
	}
	d := provenance.Diff{Build: []provenance.Change{{Field: "git SHA", From: "9b01d4e6a2c8", To: "3f2a9c1b7e5d", Kind: provenance.KindChanged}}}
	return Evidence{Context: "prod", Rollout: r, Diff: &d, FromRevision: 1, ToRevision: 2, Taken: taken, Version: "v1.0.0",
		Defaults: guard.Thresholds{MaxErrorRate: 0.01},
		Metrics: metrics.Report{At: taken, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
			{Rollout: r.Ref(), Revision: 2}: {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 4},
		}}}
}

func TestMarkdownHoldsWhatAnIncidentNeeds(t *testing.T) {
	md := Markdown(evidence())
	for _, want := range []string{
		"# Incident snapshot: shop/orders-api",
		"Phase: **Degraded**",
		"| 2 | canary | 0/0 | `3f2a9c1b7e5d` |",
		"~ git SHA: 9b01d4e6a2c8 → 3f2a9c1b7e5d",
		"Canary verdict: **BREACH**: canary errors 5.0% > max 1.0%",
		"| 2 | canary | ok | 5.00% | 4.0 | - |",
		"ModuleNotFoundError: No module named 'orjson'",
		`**Warning:** rev 1: tag \| moved`,
		`line one line \| two`, // one table row, its bar escaped
	} {
		if !strings.Contains(md, want) {
			t.Errorf("snapshot lacks %q:\n%s", want, md)
		}
	}
}

func TestMarkdownWithoutMetricsOrDiff(t *testing.T) {
	f := evidence()
	f.Metrics, f.Diff, f.DiffError = metrics.Report{}, nil, "forbidden: list replicasets"
	md := Markdown(f)
	if !strings.Contains(md, "Not read (no Prometheus configured).") || !strings.Contains(md, "Not read: forbidden: list replicasets") {
		t.Errorf("missing parts must say why:\n%s", md)
	}
	f.Metrics = metrics.Report{At: taken, Err: errors.New("connection refused")}
	if md := Markdown(f); !strings.Contains(md, "Prometheus unreachable at 03:15:00: connection refused") {
		t.Errorf("unreachable Prometheus must be said:\n%s", md)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path, err := Write(dir, evidence(), "# x\n")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "pyroll-snapshot-shop-orders-api-20261123-031500.md" {
		t.Errorf("path %s", path)
	}
	if data, _ := os.ReadFile(path); string(data) != "# x\n" {
		t.Errorf("content %q", data)
	}
	if _, err := Write(filepath.Join(dir, "missing"), evidence(), "x"); err == nil || !strings.Contains(err.Error(), "write snapshot") {
		t.Errorf("unwritable dir: %v", err)
	}
}

// A report of a rollout with the longest names the API server allows can still be written.
func TestWriteWithTheLongestNames(t *testing.T) {
	f := evidence()
	f.Rollout.Namespace = strings.Repeat("n", 63)
	f.Rollout.Name = strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	path, err := Write(t.TempDir(), f, "report")
	if err != nil {
		t.Fatal(err)
	}
	other := f
	other.Rollout.Name = f.Rollout.Name[:252] + "e"
	second, err := Write(t.TempDir(), other, "report")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) == filepath.Base(second) {
		t.Errorf("two long names, one file name: %s", filepath.Base(path))
	}
}

// Values others wrote stay text in the report: no link, image, HTML, entity or emphasis.
func TestMarkdownEscapesWhatOthersWrote(t *testing.T) {
	for in, want := range map[string]string{
		"see [the runbook](https://evil.example/x)": `see \[the runbook\](https://evil.example/x)`,
		"![x](https://evil.example/p.png)":          `!\[x\](https://evil.example/p.png)`,
		"<img src=x onerror=alert(1)>":              `\<img src=x onerror=alert(1)>`,
		"&#x202e;gnp.exe":                           `\&#x202e;gnp.exe`,
		"**urgent** _now_ ~~no~~ `x`":               "\\*\\*urgent\\*\\* \\_now\\_ \\~\\~no\\~\\~ \\`x\\`",
		"a | b \\ c":                                `a \| b \\ c`,
	} {
		if got := cell(safetext.Line(in)); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

// An Argo Rollout's report holds its steps and the values its analysis measured.
func TestMarkdownOfAnArgoRolloutHoldsStepsAndAnalysis(t *testing.T) {
	objs := rollouttest.SyntheticArgo(1, 5)
	objs.AnalysisRuns[0] = rollouttest.AnalysisRun(objs.Rollouts[0], "9f8e7d6c5", argo.AnalysisRunning, "[0.048]", "[0.052]")
	r := rollout.Build(objs, rollouttest.Epoch.Add(time.Hour))[0]
	md := Markdown(Evidence{Context: "prod", Rollout: r, Taken: rollouttest.Epoch, Version: "v1.0.0"})
	for _, want := range []string{"## Argo Rollout", "step 1: `pause` **now**", "error-rate: 0.052 (5.2%) (last 2: 0.048 0.052)", `result\[0\] \< 0.01`} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// A completed rollout's current revision is its stable one (rollout.settle): the report
// says so once, not "stable 2, canary 2".
func TestMarkdownOfACompletedRollout(t *testing.T) {
	f := evidence()
	f.Rollout.Phase, f.Rollout.StableRevision = rollout.PhaseComplete, 2
	f.Rollout.Revisions[0].Role, f.Rollout.Revisions[1].Role = rollout.RoleStable, rollout.RoleOld
	md := Markdown(f)
	if !strings.Contains(md, "- Revisions: stable 2 (complete, no canary); paused: false") || strings.Contains(md, "canary 2") {
		t.Errorf("a completed rollout's revisions:\n%s", md)
	}
}
