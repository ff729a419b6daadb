package app

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

type fakeInspector struct {
	logs      map[string]string // pod -> log
	logsAsked []string
	snapshots []string
}

func (f *fakeInspector) Diff(_ context.Context, _ ref.Rollout) (DiffView, error) {
	return DiffView{From: 1, To: 2, Diff: provenance.Diff{
		Build:    []provenance.Change{{Field: "git SHA", From: "5e4d3c2", To: "a1b2c3d", Kind: provenance.KindChanged}},
		Template: []provenance.Change{{Field: "env PYROLL_IMPORT (app)", To: "orjson", Kind: provenance.KindAdded}},
	}}, nil
}

func (f *fakeInspector) Logs(_ context.Context, _ ref.Rollout, p rollout.Pod) (LogView, error) {
	f.logsAsked = append(f.logsAsked, p.Name)
	return LogView{Pod: p.Name, Previous: p.Restarts > 0, Text: f.logs[p.Name]}, nil
}

func (f *fakeInspector) Snapshot(_ context.Context, r rollout.Rollout, _ metrics.Report) (string, string, error) {
	f.snapshots = append(f.snapshots, r.Name)
	return "/tmp/pyroll-snapshot-demo-" + r.Name + ".md", "# Incident snapshot: demo/" + r.Name, nil
}

// run sends a key and feeds the message of the command it returns back to the console.
func run(m Model, k tea.KeyPressMsg) (Model, tea.Cmd) {
	next, cmd := m.Update(k)
	m = next.(Model)
	if cmd == nil {
		return m, nil
	}
	next, cmd = m.Update(cmd())
	return next.(Model), cmd
}

func TestDiffKeyShowsWhatChanged(t *testing.T) {
	m := newConsole(t, 80, 24, styles.Options{})
	m.opts.Inspector = &fakeInspector{}
	m, _ = run(m, press("d")) // search-api, first row
	s := text(m)
	for _, want := range []string{"search-api: what changed, rev 1 → 2", "~ git SHA: 5e4d3c2 → a1b2c3d", "+ env PYROLL_IMPORT (app): orjson", "esc back"} {
		if !strings.Contains(s, want) {
			t.Errorf("diff page lacks %q:\n%s", want, s)
		}
	}
	m = send(m, press("esc"))
	if m.screen != listScreen {
		t.Errorf("esc from the diff opened over the list returns to the list, got screen %d", m.screen)
	}
}

func TestLogsKeyShowsTheFailingPodsException(t *testing.T) {
	traceback, err := os.ReadFile("../../internal/pytrace/testdata/gunicorn_worker_failed_to_boot.log")
	if err != nil {
		t.Fatal(err)
	}
	in := &fakeInspector{logs: map[string]string{"search-api-5fbccb9dc4-a": string(traceback), "search-api-b544f78b-a": "[INFO] Booting worker with pid: 7\n"}}
	m := newConsole(t, 80, 24, styles.Options{})
	m.opts.Inspector = in
	m = send(m, press("enter"))
	m, _ = run(m, press("l"))
	s := text(m)
	if !strings.Contains(s, "logs of search-api-5fbccb9dc4-a (previous container") || !strings.Contains(strings.Split(s, "\n")[2], "ModuleNotFoundError: No module named 'orjson'") {
		t.Errorf("l should open the crashing canary pod's previous log with the exception pinned on top:\n%s", s)
	}
	m, _ = run(m, press("tab"))
	if s := text(m); !strings.Contains(s, "logs of search-api-b544f78b-a") || !strings.Contains(s, "no Python traceback") {
		t.Errorf("tab should move to the next pod:\n%s", s)
	}
	m = send(m, press("esc"))
	if m.screen != detailScreen {
		t.Errorf("esc from logs opened over the detail returns to it, got screen %d", m.screen)
	}
}

func TestSnapshotKeyWritesAndCopies(t *testing.T) {
	in := &fakeInspector{}
	m := newConsole(t, 100, 24, styles.Options{})
	m.opts.Inspector = in
	m, cmd := run(m, press("x"))
	if len(in.snapshots) != 1 || !strings.Contains(text(m), "snapshot written to /tmp/pyroll-snapshot-demo-search-api.md") {
		t.Errorf("x: snapshots %v, screen:\n%s", in.snapshots, text(m))
	}
	if cmd == nil {
		t.Fatal("no clipboard command")
	}
	// OSC 52: the report itself goes to the clipboard of the terminal in front of the user.
	if got, want := cmd(), tea.SetClipboard("# Incident snapshot: demo/search-api")(); !reflect.DeepEqual(got, want) {
		t.Errorf("x should copy the report with OSC 52: got %#v, want %#v", got, want)
	}
}
