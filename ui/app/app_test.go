package app

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

var update = flag.Bool("update", false, "rewrite the golden screens")

func newConsole(t testing.TB, width, height int, o styles.Options) Model {
	t.Helper()
	m := New(Options{Styles: styles.New(o), Context: "pyroll-sandbox", Namespace: "demo", Now: clock})
	m = send(m, tea.WindowSizeMsg{Width: width, Height: height})
	return send(m, SnapshotMsg(rollout.Snapshot{Rollouts: demoRollouts(), Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
}

func send(m Model, msgs ...tea.Msg) Model {
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(Model)
	}
	return m
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func text(m Model) string { return ansi.Strip(m.View().Content) }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui/app -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("screen %s differs from %s (go test ./ui/app -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		m := newConsole(t, size.w, size.h, styles.Options{Color: true})
		golden(t, fmt.Sprintf("list-%dx%d", size.w, size.h), text(m))
		golden(t, fmt.Sprintf("detail-%dx%d", size.w, size.h), text(send(m, press("enter"))))
	}
	ascii := newConsole(t, 80, 24, styles.Options{ASCII: true})
	golden(t, "list-80x24-ascii", text(ascii))
}

func TestScreenIsExactlyTheWindow(t *testing.T) {
	m := newConsole(t, 80, 24, styles.Options{Color: true})
	for _, s := range []string{text(m), text(send(m, press("enter")))} {
		lines := strings.Split(s, "\n")
		if len(lines) != 24 {
			t.Errorf("%d lines, want 24", len(lines))
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("line %d cells wide: %q", w, l)
			}
		}
	}
}

func TestTroubleFirstAndPhasesReadWithoutColour(t *testing.T) {
	s := text(newConsole(t, 80, 24, styles.Options{}))
	search, orders, payments := strings.Index(s, "search-api"), strings.Index(s, "orders-api"), strings.Index(s, "payments-api")
	if !(search < orders && orders < payments) {
		t.Errorf("rows not in trouble-first order:\n%s", s)
	}
	for _, word := range []string{"Degraded", "Halted", "Complete", "1→2", "live"} {
		if !strings.Contains(s, word) {
			t.Errorf("screen lacks %q:\n%s", word, s)
		}
	}
}

func TestOpenDetailShowsFailingPodsAndGoesBack(t *testing.T) {
	m := newConsole(t, 80, 24, styles.Options{})
	m = send(m, press("enter"))
	s := text(m)
	for _, want := range []string{"search-api", "CrashLoopBackOff", "ModuleNotFoundError: No module named 'orjson'", "revision 2 (canary)", "restarts 4"} {
		if !strings.Contains(s, want) {
			t.Errorf("detail lacks %q:\n%s", want, s)
		}
	}
	back := text(send(m, press("esc")))
	if !strings.Contains(back, "payments-api") || !strings.Contains(back, "NAME") {
		t.Errorf("esc did not go back to the list:\n%s", back)
	}
}

func TestMoveAndOpenAnother(t *testing.T) {
	m := send(newConsole(t, 80, 24, styles.Options{}), press("j"), press("enter"))
	if s := text(m); !strings.Contains(s, "orders-api  ‖ Halted") {
		t.Errorf("j then enter should open orders-api:\n%s", s)
	}
}

func TestFilter(t *testing.T) {
	m := send(newConsole(t, 80, 24, styles.Options{}), press("/"), press("p"), press("a"), press("y"))
	s := text(m)
	if !strings.Contains(s, "payments-api") || strings.Contains(s, "search-api") || !strings.Contains(s, "/pay") {
		t.Errorf("filter 'pay' should show only payments-api and the input:\n%s", s)
	}
	kept := text(send(m, press("enter")))
	if strings.Contains(kept, "search-api") || strings.Contains(kept, "/pay") {
		t.Errorf("enter should keep the filter and close the input:\n%s", kept)
	}
	cleared := text(send(m, press("esc")))
	if !strings.Contains(cleared, "search-api") {
		t.Errorf("esc should clear the filter:\n%s", cleared)
	}
	none := text(send(newConsole(t, 80, 24, styles.Options{}), press("/"), press("z"), press("z")))
	if !strings.Contains(none, `No rollout matches "zz"`) {
		t.Errorf("an empty filter result should say so:\n%s", none)
	}
}

func TestNewSnapshotKeepsSelectionAndUpdatesWithoutKeys(t *testing.T) {
	m := send(newConsole(t, 80, 24, styles.Options{}), press("j")) // orders-api selected
	rollouts := demoRollouts()
	rollouts[1].Phase, rollouts[1].Why, rollouts[1].Paused = rollout.PhaseProgressing, "2/4 pods updated, 5 available", false
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	if s := text(m); !strings.Contains(s, "Progressing") {
		t.Errorf("new snapshot not shown:\n%s", s)
	}
	if s := text(send(m, press("enter"))); !strings.Contains(s, "orders-api  ↻ Progressing") {
		t.Errorf("selection moved off orders-api:\n%s", s)
	}
}

func TestConnectionStates(t *testing.T) {
	m := newConsole(t, 80, 24, styles.Options{})
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: demoRollouts(), Synced: true, At: clock,
		Conn: rollout.Connection{State: rollout.ConnReconnecting, Since: clock.Add(-12 * time.Second), Message: "connection refused"}}))
	if s := text(m); !strings.Contains(s, "reconnecting 12s") || !strings.Contains(s, "search-api") {
		t.Errorf("reconnecting should show with the last known state:\n%s", s)
	}
	forbidden := New(Options{Styles: styles.New(styles.Options{}), Context: "c", Namespace: "demo", Now: clock})
	forbidden = send(forbidden, tea.WindowSizeMsg{Width: 80, Height: 24}, SnapshotMsg(rollout.Snapshot{At: clock,
		Conn: rollout.Connection{State: rollout.ConnForbidden, Message: `pods is forbidden: User "viewer" cannot list resource "pods"`}}))
	if s := text(forbidden); !strings.Contains(s, `User "viewer" cannot list resource "pods"`) {
		t.Errorf("forbidden should say what is refused:\n%s", s)
	}
}

// Ages change at minute granularity: half a minute later, nothing on screen differs, so the
// renderer writes nothing.
func TestNothingChangesWithinAMinute(t *testing.T) {
	m := newConsole(t, 80, 24, styles.Options{Color: true})
	before := m.View().Content
	after := send(m, tickMsg{at: clock.Add(30 * time.Second), gen: m.tickGen}).View().Content
	if before != after {
		t.Errorf("the screen changed within a minute with no news")
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		_, cmd := newConsole(t, 80, 24, styles.Options{}).Update(press(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s did not quit", k)
		}
	}
}

// Any size from 1x1 to 300x100, on every screen, draws without a panic and within the window.
func TestAnySizeDrawsWithinTheWindow(t *testing.T) {
	widths := []int{1, 2, 5, 10, 19, 20, 21, 30, 40, 59, 60, 79, 80, 81, 100, 120, 200, 300}
	heights := []int{1, 2, 3, 4, 5, 6, 10, 23, 24, 40, 100}
	for _, w := range widths {
		for _, h := range heights {
			base := newConsole(t, w, h, styles.Options{Color: true})
			for name, m := range map[string]Model{
				"list": base, "detail": send(base, press("enter")), "filter": send(base, press("/"), press("a")),
				"help": send(base, press("?")), "detail-help": send(base, press("enter"), press("?")),
			} {
				lines := strings.Split(m.View().Content, "\n")
				if len(lines) > h {
					t.Errorf("%dx%d %s: %d lines", w, h, name, len(lines))
				}
				for _, l := range lines {
					if cw := ansi.StringWidth(l); cw > w {
						t.Errorf("%dx%d %s: a line %d cells wide", w, h, name, cw)
						break
					}
				}
			}
		}
	}
}

func TestOpenNameAtStart(t *testing.T) {
	m := New(Options{Styles: styles.New(styles.Options{}), Context: "c", Namespace: "demo", Open: ref.Rollout{Name: "orders-api"}, Now: clock})
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24},
		SnapshotMsg(rollout.Snapshot{Rollouts: demoRollouts(), Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	if s := text(m); !strings.Contains(s, "orders-api  ‖ Halted") || !strings.Contains(s, "REVISIONS") {
		t.Errorf("kubectl pyroll orders-api should open its detail:\n%s", s)
	}
	if s := text(send(m, press("esc"))); !strings.Contains(s, "search-api") {
		t.Errorf("esc from the opened detail should show the list:\n%s", s)
	}
}

func TestWaitingForTheFirstSnapshot(t *testing.T) {
	m := New(Options{Styles: styles.New(styles.Options{}), Context: "c", Namespace: "demo", Now: clock})
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if s := text(m); !strings.Contains(s, "Reading rollouts from the cluster") {
		t.Errorf("before the first snapshot the console should say it is reading:\n%s", s)
	}
}

// DESIGN.md §3: usable at 80x24. The short help drops its least important keys first, so
// ? and q show on every screen at 80 columns.
func TestHelpAndQuitShowAt80Columns(t *testing.T) {
	m := newConsole(t, 80, 24, styles.Options{})
	m.opts.Inspector = &fakeInspector{}
	diff, _ := run(m, press("d"))
	for name, s := range map[string]string{"list": text(m), "detail": text(send(m, press("enter"))), "diff": text(diff)} {
		lines := strings.Split(s, "\n")
		if last := lines[len(lines)-1]; !strings.Contains(last, "? help") || !strings.Contains(last, "q quit") {
			t.Errorf("%s: the short help lacks ? or q at 80 columns: %q", name, last)
		}
	}
}

// Actions forbidden on the selected rollout stay in the help, disabled: the full help
// marks them off and says why.
func TestDisabledActionsInTheHelp(t *testing.T) {
	actor := &fakeActor{perms: intent.Permissions{Denied: map[intent.Action]string{
		intent.Halt: "read-only (--read-only)", intent.Promote: "read-only (--read-only)", intent.Rollback: "read-only (--read-only)"}}}
	m := consoleWith(t, actor)
	m = send(m, permissionsMsg{scope: intent.Scope{Kind: ref.Deployment, Namespace: "demo"}, perms: actor.perms}, press("?"))
	s := text(m)
	for _, want := range []string{"halt (off)", "promote (off)", "rollback (off)", "off: read-only (--read-only)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the full help lacks %q:\n%s", want, s)
		}
	}
	if keys, _ := m.helpKeys(); keys.ShortHelp()[1].Enabled() {
		t.Errorf("h is enabled in the help of a read-only console")
	}
}

// consoleWithMetrics is the demo with a round of metrics judged by the config's
// thresholds: orders-api's canary breaches (5% errors, max 1%), search-api's has no data.
func consoleWithMetrics(t *testing.T, width, height int) Model {
	t.Helper()
	m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "pyroll-sandbox", Namespace: "demo", Now: clock,
		Thresholds: guard.Thresholds{MaxErrorRate: 0.01, MaxP95: 300 * time.Millisecond},
		Metrics: fakeMetrics{metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
			revKey("orders-api", 2):   {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5, P95: 140 * time.Millisecond, History: []float64{0.01, 0.03, 0.05}, P95History: []float64{0.1, 0.14}},
			revKey("orders-api", 1):   {State: metrics.StateOK, ErrorRate: 0.005, RequestRate: 20, P95: 90 * time.Millisecond, History: []float64{0.004, 0.005, 0.005}, P95History: []float64{0.09, 0.09}},
			revKey("search-api", 2):   {State: metrics.StateNoData},
			revKey("search-api", 1):   {State: metrics.StateOK, ErrorRate: 0.002, RequestRate: 15},
			revKey("payments-api", 1): {State: metrics.StateOK, ErrorRate: 0, RequestRate: 30},
		}}}})
	m = send(m, tea.WindowSizeMsg{Width: width, Height: height},
		SnapshotMsg(rollout.Snapshot{Rollouts: demoRollouts(), Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	return send(m, m.pollMetrics()())
}

// The breach banner over the list, and orders-api's detail with its metrics and verdict.
func TestGoldenMetricsScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		m := consoleWithMetrics(t, size.w, size.h)
		list := text(m)
		if !strings.Contains(list, "BREACH orders-api") || !strings.Contains(rowIn(list, "orders-api"), "BREACH") {
			t.Errorf("%dx%d: no banner or verdict for orders-api:\n%s", size.w, size.h, list)
		}
		golden(t, fmt.Sprintf("breach-%dx%d", size.w, size.h), list)
		// At 80x24 the metrics are below the pods: scroll to them.
		detail := send(m, press("j"), press("enter"))
		if size.h < 40 {
			detail = send(detail, press("down"), press("down"), press("down"), press("down"), press("down"), press("down"))
		}
		golden(t, fmt.Sprintf("detail-metrics-%dx%d", size.w, size.h), text(detail))
	}
}

// With several clusters, c groups each rollout's rows; the header says so for as long as
// they are, not only the footer's passing word.
func TestHeaderSaysTheRowsAreGrouped(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var rs []rollout.Rollout
	for _, c := range []string{"eu", "us"} {
		rs = append(rs, rollout.Rollout{Cluster: c, Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseComplete, Version: 1})
	}
	m := New(Options{Styles: styles.New(styles.Options{}), Context: "eu", Contexts: 2, Namespace: "shop", Now: now})
	m = send(m, tea.WindowSizeMsg{Width: 120, Height: 30}, SnapshotMsg(rollout.Snapshot{Rollouts: rs, Synced: true, At: now, Conn: rollout.Connection{State: rollout.ConnLive}}))
	header := func() string { return strings.SplitN(ansi.Strip(m.View().Content), "\n", 2)[0] }
	if strings.Contains(header(), "clusters together") {
		t.Fatalf("ungrouped: %q", header())
	}
	m = send(m, press("c"))
	if !strings.Contains(header(), "(each rollout's clusters together)") {
		t.Errorf("grouped: %q; want it said", header())
	}
	m = send(m, press("c"))
	if strings.Contains(header(), "clusters together") {
		t.Errorf("ungrouped again: %q", header())
	}
}
