package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/revisions"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/hostile"
)

// Output limits for the hostile objects: 64 KiB annotations and 10,000 environment
// variables must not make any output balloon (the JSON of a diff lists every variable).
const (
	maxOutputBytes = 4 << 20
	maxAllocBytes  = 128 << 20 // 46 MiB measured, most of it the diff of 10,000 variables
)

// Every command's output over the hostile objects: status (table, json, ndjson, once and
// watching, with metrics), history (table, json), diff (text, json) and the snapshot
// report as written to its file. None may hold a byte below 0x20 but a newline, nor any
// other control, escape, bidi or format character, nor invalid UTF-8.
func TestHostileObjectsThroughEveryOutput(t *testing.T) {
	for name, out := range hostileOutputs(t) {
		if what, at, bad := safetext.Unsafe(out); bad {
			t.Errorf("%s: %s at byte %d: %q", name, what, at, out[max(0, at-60):min(len(out), at+40)])
		}
		if len(out) > maxOutputBytes {
			t.Errorf("%s: %d bytes", name, len(out))
		}
		if len(out) == 0 {
			t.Errorf("%s: no output", name)
		}
	}
}

// The same through the objects with every string field tainted.
func TestTaintedObjectsThroughEveryOutput(t *testing.T) {
	for name, out := range outputs(t, hostile.Taint(hostile.Objects(hostile.Hostile))) {
		if what, at, bad := safetext.Unsafe(out); bad {
			t.Errorf("%s: %s at byte %d: %q", name, what, at, out[max(0, at-60):min(len(out), at+40)])
		}
	}
}

// The commands print what the objects say: the hostile images, escaped, in history's
// IMAGE column and in the report; the canary's exception in status.
func TestHostileOutputsShowTheEscapedText(t *testing.T) {
	out := hostileOutputs(t)
	escapedCanary, escapedStable := `ghcr.io/acme/evil:2.0\x1b]52;c;ZWNobyBwd25lZA==\x07`, `ghcr.io/acme/evil:1.9\x1b[5m`
	for _, name := range []string{"history deployment", "snapshot deployment"} {
		for _, image := range []string{escapedCanary, escapedStable} {
			if !strings.Contains(out[name], image) {
				t.Errorf("%s lacks %s:\n%s", name, image, out[name])
			}
		}
	}
	if !strings.Contains(out["status -o table"], "ModuleNotFoundErro…") || !strings.Contains(out["status -o json"], `No module named 'orjson\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\u202e'`) {
		t.Errorf("status lacks the exception:\n%s", out["status -o table"])
	}
	if !strings.Contains(out["diff deployment"], "more changes (-o json lists them all)") {
		t.Errorf("the diff of 10,000 variables is not cut short:\n%.2000s", out["diff deployment"])
	}
}

// Each output costs a bounded number of bytes to make, whatever the objects hold.
func TestHostileOutputsCostABoundedAmount(t *testing.T) {
	if hostile.RaceDetector {
		t.Skip("the race detector's allocations are no measure")
	}
	objs := hostile.Objects(hostile.Hostile)
	if n := hostile.BytesAllocated(func() { outputs(t, objs) }); n > maxAllocBytes {
		t.Errorf("every output of the hostile objects allocates %d MiB", n>>20)
	}
}

// hostileOutputs are the outputs over the hostile objects, made once for the tests that
// read them.
func hostileOutputs(t *testing.T) map[string]string {
	t.Helper()
	hostileOnce.Do(func() { hostileOut = outputs(t, hostile.Objects(hostile.Hostile)) })
	if hostileOut == nil {
		t.Fatal("the outputs could not be made")
	}
	return hostileOut
}

var (
	hostileOnce sync.Once
	hostileOut  map[string]string
)

// outputs runs every printer the commands use over objs, as the commands read them: the
// watch's snapshot for status, kube.ReadOne's objects of one rollout for the others.
func outputs(t testing.TB, objs rollout.Objects) map[string]string {
	t.Helper()
	out := map[string]string{}
	rollouts := rollout.Build(objs, hostile.Now)
	report := hostile.Report(rollouts, hostile.Hostile)
	for _, format := range []string{"table", "json", "ndjson"} {
		var stdout, stderr bytes.Buffer
		p := newStatusPrinter(&stdout, &stderr, format, true, "ctx", "")
		if err := p.all(rollouts, hostile.Now); err != nil {
			t.Fatal(err)
		}
		run := &statusRun{StatusOptions: &StatusOptions{Options: &Options{}}, printer: p}
		run.ErrOut = &stderr
		run.warn(metrics.Polled{Report: report, NewWarnings: report.Warnings})
		p.verdicts = guard.JudgeRound(rollouts, report, guard.Thresholds{MaxErrorRate: 0.01})
		if err := p.changes(rollouts, hostile.Now); err != nil {
			t.Fatal(err)
		}
		p.state(rollout.Connection{State: rollout.ConnReconnecting, Message: safetext.Line(hostile.OSC52 + "lost")})
		out["status -o "+format] = stdout.String() + stderr.String()
	}
	for _, r := range rollouts {
		kind := strings.ToLower(string(r.Kind))
		h, err := revisions.FromObjects(hostile.Only(objs, r.Name), hostile.Now)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"table", "json"} {
			var b bytes.Buffer
			if err := writeHistory(&b, h.Rollout, format, hostile.Now); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("history %s%s", kind, suffix(format, "table"))] = b.String()
		}
		for _, format := range []string{"text", "json"} {
			var b bytes.Buffer
			if err := writeDiff(&b, h, 0, 0, format, provenance.UnicodeArrows); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("diff %s%s", kind, suffix(format, "text"))] = b.String()
		}
		evidence := evidenceOf(h, "ctx", report, guard.Thresholds{MaxErrorRate: 0.01}, hostile.Now)
		path, err := incident.Write(t.TempDir(), evidence, incident.Markdown(evidence))
		if err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out["snapshot "+kind] = string(file)
	}
	return out
}

func suffix(format, plain string) string {
	if format == plain {
		return ""
	}
	return " -o " + format
}
