package list

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

func revision(role rollout.Role, ready, starting, failing int) rollout.Revision {
	rev := rollout.Revision{Role: role}
	for range ready {
		rev.Pods = append(rev.Pods, &rollout.Pod{Ready: true})
	}
	for range starting {
		rev.Pods = append(rev.Pods, &rollout.Pod{Reason: rollout.ReasonPending})
	}
	for range failing {
		rev.Pods = append(rev.Pods, &rollout.Pod{Reason: rollout.ReasonCrashLoop})
	}
	return rev
}

func TestHealthBar(t *testing.T) {
	s := styles.New(styles.Options{ASCII: true})
	cases := []struct {
		name string
		revs []rollout.Revision
		want string
	}{
		{"stable and canary", []rollout.Revision{revision(rollout.RoleCanary, 0, 0, 1), revision(rollout.RoleStable, 3, 0, 0)}, "###|x"},
		{"one revision", []rollout.Revision{revision(rollout.RoleCanary, 2, 1, 0)}, "##-"},
		{"scaled, the one failing pod still shows", []rollout.Revision{revision(rollout.RoleStable, 24, 0, 0), revision(rollout.RoleCanary, 0, 0, 1)}, "######|x"},
		{"scaled, every kind keeps a cell", []rollout.Revision{revision(rollout.RoleCanary, 40, 30, 2)}, "####---x"},
		{"old revisions are not drawn", []rollout.Revision{revision(rollout.RoleOld, 5, 0, 0), revision(rollout.RoleCanary, 1, 0, 0)}, "#"},
		{"no pods", nil, ""},
	}
	for _, c := range cases {
		got := ansi.Strip(HealthBar(s, rollout.Rollout{Revisions: c.revs}, 8))
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		if n := len([]rune(got)); n > 8 {
			t.Errorf("%s: %d cells, want at most 8", c.name, n)
		}
	}
}

func TestRowsFitTheirColumns(t *testing.T) {
	s := styles.New(styles.Options{})
	for _, width := range []int{40, 60, 80, 120} {
		m := New(s, keys.New())
		m.SetSize(width, 10)
		r := rollout.Rollout{Name: "a-service", Namespace: "ns", Phase: rollout.PhaseDegraded, CanaryRevision: 2, StableRevision: 1,
			Replicas:  rollout.Replicas{Ready: 25, Desired: 25},
			Revisions: []rollout.Revision{revision(rollout.RoleStable, 24, 0, 0), revision(rollout.RoleCanary, 0, 0, 1)}}
		m.SetRollouts([]rollout.Rollout{r}, r.StartedAt)
		for _, line := range strings.Split(ansi.Strip(m.View()), "\n") {
			if strings.Contains(line, "…") {
				t.Errorf("width %d: a cell was cut: %q", width, line)
			}
		}
	}
}

// A rollout with a longer name widens NAME; the cursor stays on the rollout it was on.
func TestNameColumnFollowsTheLongestNameKeepingTheSelection(t *testing.T) {
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetSize(120, 10)
	short := []rollout.Rollout{{Namespace: "shop", Name: "api"}, {Namespace: "shop", Name: "web"}, {Namespace: "shop", Name: "worker"}}
	m.SetRollouts(short, time.Time{})
	if !m.Select(ref.Rollout{Namespace: "shop", Name: "web"}) {
		t.Fatal("cannot select shop/web")
	}
	header := func() string { return strings.SplitN(ansi.Strip(m.View()), "\n", 2)[0] }
	if !strings.HasPrefix(header(), "NAME   PHASE") {
		t.Errorf("NAME should be as wide as the longest name (6): %q", header())
	}
	m.SetRollouts(append(short, rollout.Rollout{Namespace: "shop", Name: "recommendations-api"}), time.Time{})
	if !strings.HasPrefix(header(), "NAME                PHASE") {
		t.Errorf("NAME should widen to recommendations-api: %q", header())
	}
	if r, ok := m.Selected(); !ok || r.Name != "web" {
		t.Errorf("selection moved to %+v", r)
	}
}

// At 80 columns the verdict stays and BUILD goes: "is it breaching" comes first.
func TestVerdictStaysAt80Columns(t *testing.T) {
	m := New(styles.New(styles.Options{}), keys.New())
	m.SetSize(80, 10)
	m.SetRollouts([]rollout.Rollout{{Namespace: "demo", Name: "payments-api"}}, time.Time{})
	header := strings.SplitN(ansi.Strip(m.View()), "\n", 2)[0]
	if !strings.Contains(header, "GUARD") || strings.Contains(header, "BUILD") {
		t.Errorf("at 80 columns GUARD should stay and BUILD go: %q", header)
	}
	m.SetSize(120, 10)
	if header := strings.SplitN(ansi.Strip(m.View()), "\n", 2)[0]; !strings.Contains(header, "GUARD") || !strings.Contains(header, "BUILD") {
		t.Errorf("at 120 columns both should show: %q", header)
	}
}

// A rollout whose pods are still being read shows its ready/desired count from the status
// and "reading…" where its health bar will be; at a width without the bar, the count alone.
func TestPodsCellWhileThePodsAreRead(t *testing.T) {
	s := styles.New(styles.Options{ASCII: true})
	r := rollout.Rollout{Name: "api", Namespace: "ns", Phase: rollout.PhaseProgressing, CanaryRevision: 2, Pods: rollout.PodsSyncing,
		Replicas: rollout.Replicas{Desired: 4, Ready: 3}, Revisions: []rollout.Revision{{Number: 2, Role: rollout.RoleCanary}}}
	for width, want := range map[int]string{80: "3/4   reading…", 30: "3/4"} {
		m := New(s, keys.New())
		m.SetSize(width, 10)
		m.SetRollouts([]rollout.Rollout{r}, time.Time{})
		row := ansi.Strip(strings.Split(m.View(), "\n")[1])
		if !strings.Contains(row, want) || (width < 40 && strings.Contains(row, "reading")) {
			t.Errorf("at %d columns the row is %q; want %q", width, row, want)
		}
	}
}

// A completed rollout's current revision is its stable one (rollout.settle): the row still
// shows its build and its error rate, once (not "–" for want of a canary, nor "0.1/0.1").
func TestCompletedRolloutRowShowsItsOneRevision(t *testing.T) {
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetSize(140, 10)
	rev := revision(rollout.RoleStable, 3, 0, 0)
	rev.Number, rev.Provenance = 2, provenance.Provenance{GitSHA: "3f2a9c1b7e5d"}
	old := revision(rollout.RoleOld, 0, 0, 0)
	old.Number = 1
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseComplete, CanaryRevision: 2, StableRevision: 2,
		Replicas: rollout.Replicas{Ready: 3, Desired: 3}, Revisions: []rollout.Revision{rev, old}}
	m.SetRollouts([]rollout.Rollout{r}, r.StartedAt)
	report := metrics.Report{At: time.Unix(1, 0), Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&r, 2): {State: metrics.StateOK, ErrorRate: 0.001, RequestRate: 10},
	}}
	m.SetVerdicts(guard.JudgeRound([]rollout.Rollout{r}, report, guard.Thresholds{MaxErrorRate: 0.01}))
	row := strings.Split(ansi.Strip(m.View()), "\n")[1]
	fields := strings.Fields(row)
	if !slices.Contains(fields, "3f2a9c1") || !slices.Contains(fields, "0.1") || !slices.Contains(fields, "OK") || !slices.Contains(fields, "2") {
		t.Errorf("row %q; want rev 2, BUILD 3f2a9c1, ERR%% 0.1 and GUARD OK", row)
	}
}

// A release in its bake window is its own state in the list, with how far into the
// window it is; at 80 columns too.
func TestBakingReleaseRow(t *testing.T) {
	completed := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	rev := revision(rollout.RoleStable, 3, 0, 0)
	rev.Number = 5
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "cart-api", Phase: rollout.PhaseBaking, CanaryRevision: 5, StableRevision: 5,
		Replicas: rollout.Replicas{Ready: 3, Desired: 3}, Revisions: []rollout.Revision{rev},
		Bake: &rollout.Bake{Time: 15 * time.Minute, CompletedAt: completed, Until: completed.Add(15 * time.Minute), Previous: 4}}
	for _, width := range []int{140, 80} {
		for _, ascii := range []bool{false, true} {
			m := New(styles.New(styles.Options{ASCII: ascii}), keys.New())
			m.SetSize(width, 10)
			m.SetRollouts([]rollout.Rollout{r}, completed.Add(4*time.Minute+30*time.Second))
			row := strings.Split(ansi.Strip(m.View()), "\n")[1]
			glyph := "◌"
			if ascii {
				glyph = "o"
			}
			if !strings.Contains(row, glyph+" Baking 4m/15m") {
				t.Errorf("%d columns: row %q; want %q", width, row, glyph+" Baking 4m/15m")
			}
			m.SetNow(completed.Add(20 * time.Second))
			if row := strings.Split(ansi.Strip(m.View()), "\n")[1]; !strings.Contains(row, "Baking 20s/15m") {
				t.Errorf("%d columns, in its first minute: row %q", width, row)
			}
		}
	}
}

// Only the rows the table can draw around the cursor get their cells on a snapshot; moving
// the cursor anywhere, a page or to the end, draws the rows it reaches in full.
func TestRowsFarFromTheCursorAreDrawnWhenReached(t *testing.T) {
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetSize(100, 8)
	var rs []rollout.Rollout
	for i := range 300 {
		rs = append(rs, rollout.Rollout{Namespace: "shop", Name: fmt.Sprintf("svc-%03d", i), Phase: rollout.PhaseComplete, CanaryRevision: 1,
			Replicas: rollout.Replicas{Ready: 3, Desired: 3}})
	}
	m.SetRollouts(rs, time.Time{})
	for _, step := range []struct {
		key  tea.KeyPressMsg
		want string
	}{
		{tea.KeyPressMsg{Code: tea.KeyEnd}, "svc-299"},
		{tea.KeyPressMsg{Code: tea.KeyPgUp}, "svc-29"},
		{tea.KeyPressMsg{Code: tea.KeyHome}, "svc-000"},
		{tea.KeyPressMsg{Code: tea.KeyPgDown}, "svc-0"},
		{tea.KeyPressMsg{Code: tea.KeyDown}, "svc-0"},
	} {
		m.Update(step.key)
		selected, _ := m.Selected()
		row := ""
		for _, line := range strings.Split(ansi.Strip(m.View()), "\n") {
			if strings.Contains(line, selected.Name) {
				row = line
			}
		}
		if !strings.Contains(row, selected.Name) || !strings.Contains(row, "Complete") || !strings.HasPrefix(selected.Name, step.want) {
			t.Errorf("after %v the selected row %q is not drawn in full: %q\n%s", step.key, selected.Name, row, ansi.Strip(m.View()))
		}
		if drawn := strings.Count(ansi.Strip(m.View()), "Complete"); drawn < 6 {
			t.Errorf("after %v only %d rows drawn in a list 8 lines high:\n%s", step.key, drawn, ansi.Strip(m.View()))
		}
	}
}

// Two clusters in view: one name is two rows; at 120 columns a CONTEXT column says whose,
// at 80 it gives way (after BUILD, before GUARD) and the name says it ("us:orders-api");
// with one cluster there is no CONTEXT at all. The filter matches the context.
func TestContextColumnWithSeveralClusters(t *testing.T) {
	rows := []rollout.Rollout{
		{Cluster: "eu", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api"},
		{Cluster: "us", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api"},
		{Cluster: "us", Kind: ref.Deployment, Namespace: "shop", Name: "ledger-api"},
	}
	lines := func(m Model) []string { return strings.Split(ansi.Strip(m.View()), "\n") }
	m := New(styles.New(styles.Options{}), keys.New())
	m.SetSize(120, 10)
	m.SetRollouts(rows, time.Time{})
	got := lines(m)
	if !strings.Contains(got[0], "CONTEXT") || !strings.Contains(got[0], "GUARD") || !strings.Contains(got[0], "BUILD") {
		t.Errorf("at 120 columns: %q", got[0])
	}
	if f := strings.Fields(got[1]); len(f) < 2 || f[0] != "orders-api" || f[1] != "eu" {
		t.Errorf("eu's row: %q", got[1])
	}
	if f := strings.Fields(got[2]); len(f) < 2 || f[0] != "orders-api" || f[1] != "us" {
		t.Errorf("us's row: %q", got[2])
	}

	m.SetSize(80, 10)
	got = lines(m)
	if strings.Contains(got[0], "CONTEXT") || strings.Contains(got[0], "BUILD") || !strings.Contains(got[0], "GUARD") {
		t.Errorf("at 80 columns CONTEXT goes after BUILD, GUARD stays: %q", got[0])
	}
	if !strings.HasPrefix(strings.TrimSpace(got[1]), "eu:orders-api") || !strings.HasPrefix(strings.TrimSpace(got[2]), "us:orders-api") {
		t.Errorf("at 80 columns the names say the context:\n%s\n%s", got[1], got[2])
	}

	m.SetFilter("us")
	if got := lines(m); len(nonEmpty(got)) != 3 || strings.Contains(strings.Join(got, "\n"), "eu:") {
		t.Errorf("the filter us keeps us's two rows:\n%s", strings.Join(got, "\n"))
	}
	m.SetFilter("")

	one := New(styles.New(styles.Options{}), keys.New())
	one.SetSize(120, 10)
	local := slices.Clone(rows[:1])
	local[0].Cluster = ""
	one.SetRollouts(local, time.Time{})
	if got := lines(one); strings.Contains(got[0], "CONTEXT") || strings.Contains(got[1], ":orders-api") {
		t.Errorf("one cluster: %q / %q", got[0], got[1])
	}
}

func nonEmpty(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// Grouped, one rollout's rows in several clusters stand together whatever their phases;
// ungrouped, trouble first again; the selection stays on its rollout.
func TestGroupedRowsStandTogether(t *testing.T) {
	rows := []rollout.Rollout{
		{Cluster: "us", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseDegraded},
		{Cluster: "eu", Kind: ref.Deployment, Namespace: "shop", Name: "ledger-api", Phase: rollout.PhaseComplete},
		{Cluster: "eu", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseComplete},
	}
	m := New(styles.New(styles.Options{}), keys.New())
	m.SetSize(120, 10)
	m.SetRollouts(rows, time.Time{})
	order := func() []string {
		var out []string
		for _, l := range nonEmpty(strings.Split(ansi.Strip(m.View()), "\n"))[1:] {
			f := strings.Fields(l)
			out = append(out, f[1]+"/"+f[0])
		}
		return out
	}
	if got := strings.Join(order(), " "); got != "us/orders-api eu/ledger-api eu/orders-api" {
		t.Fatalf("as given (trouble first): %s", got)
	}
	m.SetGrouped(true)
	if got := strings.Join(order(), " "); got != "eu/ledger-api eu/orders-api us/orders-api" {
		t.Errorf("grouped: %s", got)
	}
	if r, ok := m.Selected(); !ok || r.Cluster != "us" || r.Name != "orders-api" {
		t.Errorf("the selection moved to %v", r.Ref())
	}
	m.SetGrouped(false)
	if got := strings.Join(order(), " "); got != "us/orders-api eu/ledger-api eu/orders-api" {
		t.Errorf("ungrouped again: %s", got)
	}
}

// A context without Prometheus: its rows say off under ERR% and GUARD, the others' keep
// their numbers.
func TestRowsOfAContextWithoutMetricsSayOff(t *testing.T) {
	eu := rollout.Rollout{Cluster: "eu", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseComplete,
		CanaryRevision: 1, StableRevision: 1, Revisions: []rollout.Revision{{Number: 1, Role: rollout.RoleStable}}}
	us := eu
	us.Cluster = "us"
	report := metrics.Report{At: time.Unix(1, 0), Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&eu, 1): {State: metrics.StateOK, ErrorRate: 0.012, RequestRate: 5},
	}, Off: map[string]bool{"us": true}}
	m := New(styles.New(styles.Options{}), keys.New())
	m.SetSize(120, 10)
	m.SetRollouts([]rollout.Rollout{eu, us}, time.Time{})
	m.SetVerdicts(guard.JudgeRound([]rollout.Rollout{eu, us}, report, guard.Thresholds{}))
	lines := strings.Split(ansi.Strip(m.View()), "\n")
	if f := strings.Fields(lines[1]); !slices.Contains(f, "1.2") || slices.Contains(f, "off") {
		t.Errorf("eu's row: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); strings.Count(strings.Join(f, " "), "off") != 2 {
		t.Errorf("us's row: %q", lines[2])
	}
}

// A snapshot that changes nothing the rows show redraws nothing; one that changes a cell
// on screen is drawn, and so is a row far down once the cursor reaches it.
func TestSnapshotsThatChangeNothingShownRedrawNothing(t *testing.T) {
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetSize(100, 8)
	rows := func(ready int32) []rollout.Rollout {
		var rs []rollout.Rollout
		for i := range 40 {
			rs = append(rs, rollout.Rollout{Namespace: "shop", Name: fmt.Sprintf("svc-%03d", i), Phase: rollout.PhaseComplete, CanaryRevision: 1,
				Replicas: rollout.Replicas{Ready: 3, Desired: 3}, Revisions: []rollout.Revision{revision(rollout.RoleCanary, 3, 0, 0)}})
		}
		rs[0].Replicas.Ready = ready
		rs[39].Revisions = []rollout.Revision{revision(rollout.RoleCanary, int(ready), 0, 3-int(ready))} // far below the window
		return rs
	}
	m.SetRollouts(rows(3), time.Time{})
	before, view := Refreshes(), m.View()
	m.SetRollouts(rows(3), time.Time{})
	if got := Refreshes() - before; got != 0 || m.View() != view {
		t.Errorf("the same rollouts again: %d redraws, view changed %t", got, m.View() != view)
	}
	m.SetRollouts(rows(2), time.Time{}) // row 0's count moves; row 39 is out of the window
	if got := Refreshes() - before; got != 1 || !strings.Contains(ansi.Strip(m.View()), "2/3") {
		t.Errorf("a visible change: %d redraws, want 1; the view:\n%s", got, ansi.Strip(m.View()))
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnd})
	if last := strings.Split(strings.TrimRight(ansi.Strip(m.View()), "\n"), "\n"); !strings.Contains(strings.Join(last, "\n"), "svc-039") || !strings.Contains(strings.Join(last, "\n"), "x") {
		t.Errorf("the last row, reached, does not show its failing pods:\n%s", ansi.Strip(m.View()))
	}
}

// Until the person moves the cursor it stays on the top row as rows re-sort (a pod
// crashes, its rollout goes first: the first r acts on it); once moved, it follows its
// rollout.
func TestCursorStaysOnTopUntilMoved(t *testing.T) {
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetSize(120, 10)
	halted := rollout.Rollout{Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseHalted}
	progressing := rollout.Rollout{Namespace: "shop", Name: "search-api", Phase: rollout.PhaseProgressing}
	m.SetRollouts([]rollout.Rollout{halted, progressing}, time.Time{})
	degraded := progressing
	degraded.Phase = rollout.PhaseDegraded
	m.SetRollouts([]rollout.Rollout{degraded, halted}, time.Time{})
	if r, _ := m.Selected(); r.Name != "search-api" {
		t.Errorf("untouched, the cursor is on %s; want the top row, search-api", r.Name)
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	if r, _ := m.Selected(); r.Name != "orders-api" {
		t.Fatalf("down went to %s", r.Name)
	}
	failed := rollout.Rollout{Namespace: "shop", Name: "cart-api", Phase: rollout.PhaseFailed}
	m.SetRollouts([]rollout.Rollout{failed, degraded, halted}, time.Time{})
	if r, _ := m.Selected(); r.Name != "orders-api" {
		t.Errorf("moved to orders-api, the cursor went to %s on a re-sort", r.Name)
	}
}

// A row is drawn again when its rollout's Version changes, or what the list reads besides
// the rollout (the verdicts, the namespaces in view), and its clocked cells every time;
// otherwise its cells are the ones drawn for that Version.
func TestRowsKeepTheirCellsForTheirVersion(t *testing.T) {
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetSize(140, 10)
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	rev := revision(rollout.RoleStable, 3, 0, 0)
	rev.Number, rev.Provenance = 2, provenance.Provenance{GitSHA: "3f2a9c1b7e5d"}
	orders := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseComplete, CanaryRevision: 2, StableRevision: 2,
		Replicas: rollout.Replicas{Ready: 3, Desired: 3}, Revisions: []rollout.Revision{rev}, StartedAt: start, Version: 1}
	cart := orders
	cart.Name, cart.Version = "cart-api", 2
	long := orders
	long.Name, long.Version = "recommendations-engine-api", 6
	row := func(name string) string { return rowOf(ansi.Strip(m.View()), name) }
	m.SetRollouts([]rollout.Rollout{cart, orders, long}, start.Add(30*time.Second))

	// The same Version with other contents: what was drawn for it stays (a Builder never
	// does this: it is how the test sees the row was not drawn again), the clock's cells move.
	stale := orders
	stale.Revisions = []rollout.Revision{rev}
	stale.Revisions[0].Provenance.GitSHA = "ffffffffffff"
	m.SetRollouts([]rollout.Rollout{cart, stale, long}, start.Add(5*time.Minute))
	if r := row("orders-api"); !strings.Contains(r, "3f2a9c1") || !strings.Contains(r, "5m") {
		t.Errorf("same Version: %q; want the build drawn before (3f2a9c1) and the age moved (5m)", r)
	}
	stale.Version = 3
	m.SetRollouts([]rollout.Rollout{cart, stale, long}, start.Add(5*time.Minute))
	if r := row("orders-api"); !strings.Contains(r, "fffffff") {
		t.Errorf("a new Version: %q; want the new build fffffff", r)
	}

	report := metrics.Report{At: time.Unix(1, 0), Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&cart, 2): {State: metrics.StateOK, ErrorRate: 0.2, RequestRate: 10},
	}}
	m.SetVerdicts(guard.JudgeRound([]rollout.Rollout{cart}, report, guard.Thresholds{MaxErrorRate: 0.01}))
	if r := row("cart-api"); !strings.Contains(r, "BREACH") {
		t.Errorf("after a round of verdicts: %q; want BREACH", r)
	}
	// An Argo Rollout of the same name: NAME says each one's kind (no wider than the
	// longest name: the columns stay).
	argo := cart
	argo.Kind, argo.Version = ref.ArgoRollout, 5
	m.SetRollouts([]rollout.Rollout{cart, argo, stale, long}, start.Add(5*time.Minute))
	if r := row("deployment/cart-api"); r == "" {
		t.Errorf("with an Argo Rollout of the same name, NAME says the kind: %q", ansi.Strip(m.View()))
	}
}

// rowOf is the line of screen whose first field is name.
func rowOf(screen, name string) string {
	for _, line := range strings.Split(screen, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return line
		}
	}
	return ""
}

// A release that starts baking, or an Argo Rollout that comes into view, after the list
// was laid out widens PHASE or brings STEP, though no name got longer.
func TestColumnsFollowWhatComesIntoView(t *testing.T) {
	completed := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "cart-api", Phase: rollout.PhaseComplete, CanaryRevision: 5, StableRevision: 5,
		Replicas: rollout.Replicas{Ready: 3, Desired: 3}, Version: 1}
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetSize(140, 10)
	m.SetRollouts([]rollout.Rollout{r}, completed)
	baking := r
	baking.Phase, baking.Version = rollout.PhaseBaking, 2
	baking.Bake = &rollout.Bake{Time: 15 * time.Minute, CompletedAt: completed, Until: completed.Add(15 * time.Minute), Previous: 4}
	m.SetRollouts([]rollout.Rollout{baking}, completed.Add(4*time.Minute))
	if row := rowOf(ansi.Strip(m.View()), "cart-api"); !strings.Contains(row, "o Baking 4m/15m") {
		t.Errorf("baking after the first layout: %q; want o Baking 4m/15m whole", row)
	}
	argo := r
	argo.Kind, argo.Name, argo.Version, argo.Argo = ref.ArgoRollout, "cart-ui", 3, &rollout.Argo{}
	m.SetRollouts([]rollout.Rollout{baking, argo}, completed.Add(4*time.Minute))
	if header := strings.Fields(strings.Split(ansi.Strip(m.View()), "\n")[0]); !slices.Contains(header, "STEP") {
		t.Errorf("an Argo Rollout in view: header %v; want STEP", header)
	}
}

// Rollouts can come before the terminal's size (a console served over SSH, a loaded
// machine): the list holds them without a column to draw them in, then draws them once
// sized.
func TestRolloutsBeforeTheSize(t *testing.T) {
	m := New(styles.New(styles.Options{ASCII: true}), keys.New())
	m.SetRollouts([]rollout.Rollout{{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseProgressing, Version: 1}}, time.Time{})
	_ = m.View()
	m.SetSize(100, 10)
	if row := rowOf(ansi.Strip(m.View()), "orders-api"); row == "" {
		t.Errorf("sized after its rollouts came, the list shows %q", ansi.Strip(m.View()))
	}
}
