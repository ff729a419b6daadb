// Package list is the console's first screen: one row per rollout, trouble first.
package list

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/textfmt"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// Model is the rollout list.
type Model struct {
	styles        styles.Styles
	table         table.Model
	all           []rollout.Rollout
	shown         []rollout.Rollout // after the filter, in display order
	filter        string
	now           time.Time
	width, height int
	columns       []column
	// clashes are the namespace/names an Argo Rollout and a Deployment share (in one
	// cluster: keys with Kind "").
	clashes map[ref.Rollout]bool
	// laidOut is what the columns were last chosen from besides the size.
	laidOut layoutInputs
	// contextWidth is the longest context of the rollouts (0: one cluster, no CONTEXT
	// column).
	contextWidth int
	// grouped: one rollout's rows in several clusters stand one under another (by
	// namespace and name, then context), not trouble first.
	grouped bool
	// contextInName: several contexts are in view but the CONTEXT column did not fit: the
	// NAME cell says the context ("us:orders-api"), two rows never look the same.
	contextInName bool
	// verdicts are the last metrics round and the guard's judgements of it.
	verdicts guard.Verdicts
	// owners are the rollouts' GitOps owners as last read.
	owners map[ref.Rollout]owner.View
	// chosen: the person moved the cursor (or chose a rollout elsewhere): it follows that
	// rollout as rows re-sort. Until then it stays on the top row, the most troubled: at
	// start rows arrive and re-sort as pods crash, and the first r should act on the
	// rollout that is on top by then, not on the one that happened to be first.
	chosen bool
	// drawn are the cells last drawn for each rollout in the window: a row whose rollout
	// has the same Version (and the list the same cellsEpoch) is not drawn again. Under
	// churn a few rollouts of hundreds change between two snapshots, and drawing every
	// cell of the window was most of applying one.
	drawn map[ref.Rollout]drawnRow
	// cellsEpoch counts the changes of what cells read besides their rollout and the
	// clock (the columns, the verdicts, the owners, the names' form): each one draws every
	// row again.
	cellsEpoch uint64
	// namespaces: the rollouts are in several namespaces (NAME says each one's).
	namespaces bool
	// rendered is the table as last drawn: View is called after every message, the
	// table changes only with rows, cursor or size.
	rendered string
	keys     keys.Map
}

type column struct {
	title string
	width int
	cell  func(m *Model, r rollout.Rollout) string
	// clocked says whether the rollout's cell reads the clock (an age, a bake window's
	// progress): drawn anew each time then, not kept with its rollout's Version. nil: never.
	clocked func(rollout.Rollout) bool
}

// always: the cell reads the clock for every rollout (AGE).
func always(rollout.Rollout) bool { return true }

// baking: PHASE reads the clock only for a release in its bake window ("Baking 4m/15m").
func baking(r rollout.Rollout) bool { return r.Baking() }

// drawnRow is a rollout's cells as last drawn (the selection's highlight aside), for its
// Version and the list's cellsEpoch then.
type drawnRow struct {
	version, epoch uint64
	cells          []string
	line           string // the cells laid out (lineOf)
}

// New returns an empty list.
func New(s styles.Styles, km keys.Map) Model {
	t := table.New(table.WithFocused(true))
	t.KeyMap = table.KeyMap{
		LineUp: km.Up, LineDown: km.Down, PageUp: km.PageUp, PageDown: km.PageDown,
		GotoTop: km.Top, GotoBottom: km.Bottom,
	}
	// One column as wide as the list, holding each row as the list lays it out (lineOf):
	// the table renders a cell at a time, about 20 lipgloss renders a row, which made
	// most of applying a snapshot; the list draws a row only when its rollout changed.
	t.SetStyles(table.Styles{
		Header:   s.Header,
		Cell:     lipgloss.NewStyle(),
		Selected: s.Selected,
	})
	return Model{styles: s, table: t, keys: km}
}

// SetSize fits the list into width x height cells.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(width, 1), max(height, 1)
	m.relayout()
}

// relayout chooses the columns again and redraws every row.
func (m *Model) relayout() {
	selected := m.selectedKey()
	m.laidOut = m.layoutInputs()
	m.columns = m.layout()
	m.cellsEpoch++
	titles := make([]string, len(m.columns))
	for i, c := range m.columns {
		titles[i] = c.title
	}
	// Rows hold the previous layout's cells: drop them before the columns change.
	m.table.SetRows(nil)
	m.table.SetColumns([]table.Column{{Title: m.lineOf(titles), Width: m.width}})
	m.table.SetWidth(m.width)
	m.table.SetHeight(m.height)
	m.refreshKeeping(selected)
}

// SetRollouts replaces the rollouts, keeping the selection on the same rollout.
func (m *Model) SetRollouts(rs []rollout.Rollout, now time.Time) {
	m.all, m.now = rs, now
	m.scanNames()
	m.refreshOrRelayout()
}

// layoutInputs are what the columns are chosen from besides the terminal's size: a
// rollout that starts baking widens PHASE, an Argo Rollout brings STEP, a second context
// CONTEXT, a longer name NAME.
type layoutInputs struct {
	nameWidth, contextWidth int
	argo, baking            bool
}

func (m *Model) layoutInputs() layoutInputs {
	return layoutInputs{nameWidth: m.longestName(), contextWidth: m.contextWidth, argo: m.anyArgo(), baking: m.anyBaking()}
}

// refreshOrRelayout redraws the rows, with the columns chosen again if what they are
// chosen from changed.
func (m *Model) refreshOrRelayout() {
	if m.width > 0 && m.layoutInputs() != m.laidOut {
		m.relayout()
		return
	}
	m.refresh()
}

// longestName is the width of the longest NAME cell, at least the title's.
func (m *Model) longestName() int {
	longest := len("NAME")
	for _, r := range m.all {
		w := len(r.Name)
		if m.namespaces {
			w += len(r.Namespace) + 1
		}
		if m.kindClash(r) {
			w += len(r.Kind.Arg()) + 1
		}
		if m.withContexts() {
			w += len(r.Cluster) + 1 // room for "us:" should CONTEXT not fit
		}
		switch m.ownerReverts(r) {
		case owner.Yes:
			w += 2 // " ⟲"
		case owner.Unknown:
			w += 3 // " ⟲?"
		}
		longest = max(longest, w)
	}
	return longest
}

// displayName is the NAME cell's text: namespace/ when several are in view, and the kind
// when a Deployment and an Argo Rollout share the name.
func (m *Model) displayName(r rollout.Rollout) string {
	name := r.Name
	if m.kindClash(r) {
		name = r.Kind.Arg() + "/" + name
	}
	if m.namespaces {
		name = r.Namespace + "/" + name
	}
	if m.contextInName {
		name = r.Cluster + ":" + name
	}
	return name
}

// SetOwners shows what each rollout's GitOps owner was read to be: a rollout whose owner
// will undo a rollback is marked.
func (m *Model) SetOwners(views map[ref.Rollout]owner.View) {
	m.owners = views
	m.cellsEpoch++
	m.refreshOrRelayout()
}

// ownerReverts says whether r's owner will undo a rollback (or conflict with it): No when
// it has none or leaves it, Unknown when its owner could not be read.
func (m *Model) ownerReverts(r rollout.Rollout) owner.State {
	if r.Owner == nil {
		return owner.No
	}
	v, ok := m.owners[r.Ref()]
	if !ok || v.Access == owner.Unread {
		return owner.No
	}
	e := v.Effect(r.Kind, intent.Rollback, "")
	if e.Reverts == owner.Yes || e.Conflicts == owner.Yes {
		return owner.Yes
	}
	return e.Reverts
}

// SetVerdicts shows a new round of error rates, judged.
func (m *Model) SetVerdicts(v guard.Verdicts) {
	m.verdicts = v
	m.cellsEpoch++
	m.refresh()
}

// SetNow moves the clock the ages are computed from.
func (m *Model) SetNow(now time.Time) {
	m.now = now
	m.refresh()
}

// SetFilter shows only rollouts whose namespace/name contains f (case-insensitive).
func (m *Model) SetFilter(f string) {
	m.filter = f
	m.refresh()
}

// SetGrouped puts one rollout's rows in several clusters together (true) or trouble first
// (false), keeping the selection.
func (m *Model) SetGrouped(grouped bool) {
	m.grouped = grouped
	// The person regrouped looking at a row: it stays under the cursor.
	m.chosen = true
	m.refresh()
}

// Grouped says whether the rows are grouped by rollout across clusters.
func (m Model) Grouped() bool { return m.grouped }

// SeveralClusters says whether the rollouts come from several contexts.
func (m Model) SeveralClusters() bool { return m.withContexts() }

// Filter is the current filter.
func (m Model) Filter() string { return m.filter }

// Shown is the number of rollouts shown and in total.
func (m Model) Shown() (shown, total int) { return len(m.shown), len(m.all) }

// Selected returns the rollout under the cursor.
func (m Model) Selected() (rollout.Rollout, bool) {
	i := m.table.Cursor()
	if i < 0 || i >= len(m.shown) {
		return rollout.Rollout{}, false
	}
	return m.shown[i], true
}

// Select moves the cursor to the rollout with this key, if shown.
func (m *Model) Select(key ref.Rollout) bool {
	for i, r := range m.shown {
		if r.Ref() == key {
			m.chosen = true
			m.table.SetCursor(i)
			m.refresh()
			return true
		}
	}
	return false
}

// Update handles navigation keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	before := m.table.Cursor()
	var cmd tea.Cmd
	m.table, cmd = m.table.Update(msg)
	if m.table.Cursor() != before {
		m.chosen = true
		m.refresh()
	}
	m.rendered = m.table.View()
	return cmd
}

// ShortHelp is the list's own keys: moving the cursor.
func (m Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Up, m.keys.Down} }

// FullHelp is the list's own keys: moving the cursor.
func (m Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Up, m.keys.Down, m.keys.PageUp, m.keys.PageDown, m.keys.Top, m.keys.Bottom}}
}

// View renders the table.
func (m Model) View() string {
	if len(m.all) == 0 {
		return m.styles.Dim.Render("No rollouts (Deployments, Argo Rollouts) here yet.")
	}
	if len(m.shown) == 0 {
		return m.styles.Dim.Render(fmt.Sprintf("No rollout matches %q (esc clears the filter).", m.filter))
	}
	return m.rendered
}

func (m *Model) refresh() { m.refreshKeeping(m.selectedKey()) }

// selectedKey is the rollout the cursor keeps to (none: the top row).
func (m *Model) selectedKey() ref.Rollout {
	if !m.chosen {
		return ref.Rollout{}
	}
	if r, ok := m.Selected(); ok {
		return r.Ref()
	}
	return ref.Rollout{}
}

// refreshes counts the lists' full redraws (every row), so a test can show what does not
// cause one.
var refreshes atomic.Int64

// Refreshes is how many times this process has redrawn every row of a list.
func Refreshes() int64 { return refreshes.Load() }

// refreshKeeping redraws the rows with the cursor on the rollout selected (a key).
func (m *Model) refreshKeeping(selected ref.Rollout) {
	m.shown = make([]rollout.Rollout, 0, len(m.all))
	needle := strings.ToLower(m.filter)
	for _, r := range m.all {
		if needle == "" || strings.Contains(strings.ToLower(r.Namespace+"/"+r.Name), needle) ||
			(r.Cluster != "" && strings.Contains(strings.ToLower(r.Cluster), needle)) {
			m.shown = append(m.shown, r)
		}
	}
	if m.grouped {
		slices.SortStableFunc(m.shown, func(a, b rollout.Rollout) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Kind, b.Kind))
		})
	}
	cursor := 0
	for i, r := range m.shown {
		if r.Ref() == selected {
			cursor = i
		}
	}
	// The table draws only the rows within its height of the cursor (bubbles' table: from
	// cursor-height to cursor+height); the others' cells are left empty until the cursor
	// comes near them, which redraws the list again. At 500 rollouts on a 50-line terminal
	// that is a fifth of the cells to compute on every snapshot.
	lo, hi := max(0, cursor-m.table.Height()), min(len(m.shown), cursor+m.table.Height()+1)
	rows := make([]table.Row, len(m.shown))
	drawn := make(map[ref.Rollout]drawnRow, hi-lo)
	for i, r := range m.shown {
		line := ""
		if i >= lo && i < hi {
			line = m.line(r, drawn)
		}
		if i == cursor {
			// The selected row is drawn in reverse: inner colours would break it.
			line = ansi.Strip(line)
		}
		if len(m.columns) > 0 {
			// No cell before the list has a size and so its column (a snapshot can come
			// before the terminal's size): the table would index a column it has not got.
			rows[i] = table.Row{line}
		}
	}
	m.drawn = drawn
	if m.table.Cursor() == cursor && slices.EqualFunc(m.table.Rows(), rows, slices.Equal) {
		// Nothing drawn changes (a snapshot that moved only what the rows do not show, or
		// rows outside the window): SetRows would render the window again for nothing.
		return
	}
	refreshes.Add(1)
	m.table.SetRows(rows)
	// Each of SetRows and SetCursor re-renders every row: the second only when it moves.
	if m.table.Cursor() != cursor {
		m.table.SetCursor(cursor)
	}
	m.rendered = m.table.View()
}

// line is r's row: the one drawn for its Version before when its clocked cells read the
// same, else laid out again from its cells, those drawn for its Version before with the
// clocked ones drawn again, or all drawn anew (noted in drawn, the next refresh's m.drawn).
func (m *Model) line(r rollout.Rollout, drawn map[ref.Rollout]drawnRow) string {
	key := r.Ref()
	prev, ok := m.drawn[key]
	reuse := ok && r.Version != 0 && prev.version == r.Version && prev.epoch == m.cellsEpoch
	cells := make([]string, len(m.columns))
	same := reuse
	for j, c := range m.columns {
		switch {
		case !reuse:
			cells[j] = c.cell(m, r)
		case c.clocked != nil && c.clocked(r):
			cells[j] = c.cell(m, r)
			same = same && cells[j] == prev.cells[j]
		default:
			cells[j] = prev.cells[j]
		}
	}
	line := prev.line
	if !same {
		line = m.lineOf(cells)
	}
	drawn[key] = drawnRow{version: r.Version, epoch: m.cellsEpoch, cells: cells, line: line}
	return line
}

// lineOf lays cells out in the columns: each cut to its column's width (an ellipsis where
// cut) and padded to it, a space after each.
func (m *Model) lineOf(cells []string) string {
	var b strings.Builder
	for j, c := range m.columns {
		cell := ansi.Truncate(cells[j], c.width, "…")
		b.WriteString(cell)
		b.WriteString(strings.Repeat(" ", max(c.width-ansi.StringWidth(cell), 0)+1))
	}
	return b.String()
}

// layout chooses the columns that fit. BUILD goes first (below ~88 columns): the
// on-call engineer's first question is "is it breaching", so GUARD's verdict stays at
// 80x24 and the build is one enter away, in the detail. Then STEP (shown only when an
// Argo Rollout is in view; the detail and WHY say the step too), CONTEXT (only with
// several clusters; the detail names it), GUARD, ERR% and the age go, then the health
// bar.
func (m *Model) layout() []column {
	name := column{title: "NAME", cell: (*Model).nameCell}
	phase := column{title: "PHASE", width: 13, cell: (*Model).phaseCell, clocked: baking}
	if m.anyBaking() {
		phase.width = 16 // "◌ Baking 14m/15m"
	}
	rev := column{title: "REV", width: 6, cell: (*Model).revisionCell}
	pods := column{title: "PODS", width: 15, cell: (*Model).podsCell}
	errRate := column{title: "ERR%", width: 9, cell: (*Model).errorRateCell}
	verdict := column{title: "GUARD", width: 7, cell: (*Model).verdictCell}
	build := column{title: "BUILD", width: 8, cell: (*Model).buildCell}
	age := column{title: "AGE", width: 4, cell: (*Model).ageCell, clocked: always}
	fixed := []column{phase, rev, pods, errRate, verdict, build, age}
	if m.anyArgo() {
		// Where the steps stand ("1/4 20%"), for Argo Rollouts, after the revisions.
		step := column{title: "STEP", width: 8, cell: (*Model).stepCell}
		fixed = []column{phase, rev, step, pods, errRate, verdict, build, age}
	}
	if m.withContexts() {
		// Whose cluster, beside the name it qualifies.
		cluster := column{title: "CONTEXT", width: min(max(m.contextWidth, len("CONTEXT")), 16), cell: (*Model).contextCell}
		fixed = append([]column{cluster}, fixed...)
	}
	fits := func(cols []column) int {
		used := 0
		for _, c := range cols {
			used += c.width + 1
		}
		return m.width - used - 1
	}
	for _, drop := range []string{"BUILD", "STEP", "CONTEXT", "GUARD", "ERR%", "AGE"} {
		if fits(fixed) >= 16 {
			break
		}
		fixed = without(fixed, drop)
	}
	if fits(fixed) < 16 {
		for i := range fixed {
			if fixed[i].title == "PODS" {
				fixed[i].width = 5
				fixed[i].cell = (*Model).podsCountCell
			}
		}
	}
	if fits(fixed) < 10 {
		fixed = without(fixed, "REV")
	}
	m.contextInName = m.withContexts() && !slices.ContainsFunc(fixed, func(c column) bool { return c.title == "CONTEXT" })
	// NAME takes what its longest name needs, no more: on a wide terminal the phase
	// stays next to the name it belongs to, and the free space goes to the right.
	name.width = max(min(fits(fixed), m.laidOut.nameWidth), 1)
	return append([]column{name}, fixed...)
}

func without(cols []column, title string) []column {
	out := cols[:0:0]
	for _, c := range cols {
		if c.title != title {
			out = append(out, c)
		}
	}
	return out
}

func (m *Model) nameCell(r rollout.Rollout) string {
	name := m.displayName(r)
	switch m.ownerReverts(r) {
	case owner.Yes:
		name += " " + m.styles.Warning.Render(m.styles.Glyphs.Reverted)
	case owner.Unknown:
		name += " " + m.styles.Dim.Render(m.styles.Glyphs.Reverted+"?")
	}
	if !m.verdicts.Report.At.IsZero() && m.verdicts.Of(r.Ref()).Verdict == guard.Breach {
		return m.styles.Failing.Render(name) // a breaching canary marks its whole row
	}
	return name
}

// verdictCell is the guard's word on the canary: OK, WARN, BREACH or NO DATA.
func (m *Model) verdictCell(r rollout.Rollout) string {
	if m.verdicts.Report.At.IsZero() {
		return m.styles.Dim.Render(m.styles.Glyphs.None)
	}
	if m.verdicts.Report.MetricsOff(&r) {
		return m.styles.Dim.Render("off")
	}
	j := m.verdicts.Of(r.Ref())
	switch j.Verdict {
	case guard.Breach:
		return m.styles.Failing.Render(string(j.Verdict))
	case guard.Warn:
		return m.styles.Warning.Render(string(j.Verdict))
	case guard.NoData:
		return m.styles.Dim.Render(string(j.Verdict))
	}
	return string(j.Verdict)
}

func (m *Model) anyArgo() bool {
	for _, r := range m.all {
		if r.Argo != nil {
			return true
		}
	}
	return false
}

// stepCell is an Argo Rollout's step and weight, "1/4 20%"; "-" for a Deployment or a
// Rollout without steps.
func (m *Model) stepCell(r rollout.Rollout) string {
	if r.Argo != nil && r.Argo.Step != "" {
		return r.Argo.Step
	}
	return m.styles.Dim.Render(m.styles.Glyphs.None)
}

// kindClash reports whether another rollout in view has r's namespace and name (an Argo
// Rollout beside a Deployment of the same name): then both rows name their kind.
func (m *Model) kindClash(r rollout.Rollout) bool {
	return m.clashes[clashKey(r)]
}

// clashKey is r's name in its cluster, whatever its kind.
func clashKey(r rollout.Rollout) ref.Rollout {
	return ref.Rollout{Cluster: r.Cluster, Namespace: r.Namespace, Name: r.Name}
}

// scanNames notes the names that more than one kind of rollout carries in one cluster,
// the longest context and whether several namespaces are in view: what NAME and CONTEXT
// read besides the rollout.
func (m *Model) scanNames() {
	clashes := m.clashes
	m.clashes, m.contextWidth, m.namespaces = nil, 0, false
	seen := make(map[ref.Rollout]ref.Kind, len(m.all))
	for _, r := range m.all {
		m.contextWidth = max(m.contextWidth, len(r.Cluster))
		m.namespaces = m.namespaces || r.Namespace != m.all[0].Namespace
		key := clashKey(r)
		if kind, ok := seen[key]; ok && kind != r.Kind {
			if m.clashes == nil {
				m.clashes = map[ref.Rollout]bool{}
			}
			m.clashes[key] = true
		}
		seen[key] = r.Kind
	}
	// A change of the namespaces in view changes NAME's width as well: the relayout that
	// follows draws every row.
	if !maps.Equal(m.clashes, clashes) {
		m.cellsEpoch++
	}
}

// withContexts: the rollouts come from several clusters (--contexts), each tagged with
// its context: the CONTEXT column says whose each row is.
func (m *Model) withContexts() bool { return m.contextWidth > 0 }

// contextCell is the row's kubeconfig context.
func (m *Model) contextCell(r rollout.Rollout) string { return r.Cluster }

// phaseCell is the phase; a release in its bake window says how far it is into it:
// "◌ Baking 4m/15m".
func (m *Model) phaseCell(r rollout.Rollout) string {
	if r.Baking() {
		s := m.styles
		return s.Phase[r.Phase].Render(s.Glyphs.Phase[r.Phase] + " Baking " + BakeProgress(r.Bake, m.now))
	}
	return m.styles.PhaseLabel(r.Phase)
}

// BakeProgress is how far a release is into its bake window: "4m/15m" ("40s/15m" in its
// first minute).
func BakeProgress(b *rollout.Bake, now time.Time) string {
	elapsed := b.Elapsed(now)
	done := fmt.Sprintf("%dm", int(elapsed.Minutes()))
	if elapsed < time.Minute {
		done = fmt.Sprintf("%ds", int(elapsed.Seconds()))
	}
	return done + "/" + rollout.ShortDuration(b.Time)
}

func (m *Model) anyBaking() bool {
	for i := range m.all {
		if m.all[i].Baking() {
			return true
		}
	}
	return false
}

func (m *Model) revisionCell(r rollout.Rollout) string {
	return r.RevisionLabel(m.styles.Glyphs.Arrow)
}

func (m *Model) podsCountCell(r rollout.Rollout) string {
	return fmt.Sprintf("%d/%d", r.Replicas.Ready, r.Replicas.Desired)
}

// podsCell is ready/desired and the health bar; while the pods are still being read, the
// count from the rollout's status and "reading…" where the bar will be.
func (m *Model) podsCell(r rollout.Rollout) string {
	if r.ReadingPods() {
		return fmt.Sprintf("%-5s %s", m.podsCountCell(r), m.styles.Dim.Render(ReadingPods))
	}
	return fmt.Sprintf("%-5s %s", m.podsCountCell(r), HealthBar(m.styles, r, 8))
}

// ReadingPods stands in a row's health bar while the pods are still being read.
const ReadingPods = "reading…"

// HealthBar draws the stable revision's pods, then the canary's, in at most cells cells:
// ready, starting, failing, one cell a pod, scaled down when there are more pods than
// cells (every kind present keeps at least one cell, so one failing pod always shows).
// Glyphs differ, so it reads without colour.
func HealthBar(s styles.Styles, r rollout.Rollout, cells int) string {
	var counts [][3]int // per revision shown: ready, starting, failing
	for _, is := range []func(rollout.Role) bool{rollout.Role.IsServing, rollout.Role.IsNew} {
		for _, rev := range r.Revisions {
			if !is(rev.Role) || len(rev.Pods) == 0 {
				continue
			}
			var c [3]int
			for _, p := range rev.Pods {
				switch {
				case p.Ready && p.Reason == "":
					c[0]++
				case p.Failing():
					c[2]++
				default:
					c[1]++
				}
			}
			counts = append(counts, c)
		}
	}
	if len(counts) == 0 {
		return ""
	}
	budget := max(cells-(len(counts)-1), len(counts))
	fitCounts(counts, budget)
	glyphs := [3]string{s.Glyphs.PodReady, s.Glyphs.PodPending, s.Glyphs.PodFailing}
	styled := [3]func(...string) string{s.Ready.Render, s.Pending.Render, s.Failing.Render}
	segments := make([]string, len(counts))
	for i, c := range counts {
		for k := range 3 {
			if c[k] > 0 {
				segments[i] += styled[k](strings.Repeat(glyphs[k], c[k]))
			}
		}
	}
	return strings.Join(segments, s.Dim.Render(s.Glyphs.RevisionSep))
}

// fitCounts scales the counts down to budget cells in all, keeping every non-zero count at
// one cell or more; the largest counts give way first.
func fitCounts(counts [][3]int, budget int) {
	total := 0
	for _, c := range counts {
		total += c[0] + c[1] + c[2]
	}
	if total <= budget {
		return
	}
	scale := float64(budget) / float64(total)
	sum := 0
	for i := range counts {
		for k := range 3 {
			if counts[i][k] > 0 {
				counts[i][k] = max(1, int(float64(counts[i][k])*scale))
				sum += counts[i][k]
			}
		}
	}
	for sum > budget {
		bi, bk := -1, -1
		for i := range counts {
			for k := range 3 {
				if counts[i][k] > 1 && (bi < 0 || counts[i][k] > counts[bi][bk]) {
					bi, bk = i, k
				}
			}
		}
		if bi < 0 {
			return
		}
		counts[bi][bk]--
		sum--
	}
}

// buildCell is the current revision's short git SHA (else its version), with a "!" when
// its provenance cannot be trusted (a tag that runs two digests).
func (m *Model) buildCell(r rollout.Rollout) string {
	canary := r.Current()
	if canary == nil {
		return m.styles.Dim.Render(m.styles.Glyphs.None)
	}
	text := canary.Provenance.ShortSHA()
	if text == "" {
		text = textfmt.Clip(canary.Provenance.Version, 7)
	}
	if text == "" {
		return m.styles.Dim.Render(m.styles.Glyphs.None)
	}
	if len(canary.Provenance.Warnings) > 0 {
		return m.styles.Warning.Render(text.String() + "!")
	}
	return text.String()
}

// errorRateCell is the canary's error rate, then the stable's: "5.0/0.5" (a completed
// rollout's one revision alone), in red with a "!" when the canary breaches its
// thresholds, in yellow when the guard warns.
func (m *Model) errorRateCell(r rollout.Rollout) string {
	if m.verdicts.Report.Revisions == nil {
		return m.styles.Dim.Render(m.styles.Glyphs.None)
	}
	if m.verdicts.Report.MetricsOff(&r) {
		return m.styles.Dim.Render("off") // its context has no Prometheus
	}
	value := func(rev *rollout.Revision) string {
		if rev == nil {
			return ""
		}
		v, ok := m.verdicts.Report.Of(&r, rev.Number)
		if !ok {
			return m.styles.Glyphs.None
		}
		return FormatRate(v)
	}
	current, stable := r.Current(), r.Stable()
	text := value(current)
	if stable != current {
		if s := value(stable); s != "" {
			text += "/" + s
		}
	}
	switch m.verdicts.Of(r.Ref()).Verdict {
	case guard.Breach:
		return m.styles.Failing.Render(text + "!")
	case guard.Warn:
		return m.styles.Warning.Render(text)
	}
	return text
}

// FormatRate is an error rate in percent ("5.0"), or what stands for none: "n/a" (no
// series), "idle" (no traffic), "?" (Prometheus unreachable). Never 0 for missing data.
func FormatRate(v metrics.Revision) string {
	switch v.State {
	case metrics.StateOK:
		return strconv.FormatFloat(v.ErrorRate*100, 'f', 1, 64)
	case metrics.StateNoTraffic:
		return "idle"
	case metrics.StateUnreachable:
		return "?"
	default:
		return "n/a"
	}
}

func (m *Model) ageCell(r rollout.Rollout) string { return textfmt.Age(m.now.Sub(r.StartedAt), true) }
