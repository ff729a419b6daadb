// Package app is the console's root model: it holds the components (list, detail, the
// diff or logs page, confirmation, filter, footer with the help), receives snapshots and
// metrics as messages, runs the I/O in commands, and routes keys: to the focused
// component first, then to the global bindings.
package app

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/textfmt"
	"github.com/pyroll/kubectl-pyroll/ui/common"
	"github.com/pyroll/kubectl-pyroll/ui/confirm"
	"github.com/pyroll/kubectl-pyroll/ui/detail"
	"github.com/pyroll/kubectl-pyroll/ui/filter"
	"github.com/pyroll/kubectl-pyroll/ui/footer"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/list"
	"github.com/pyroll/kubectl-pyroll/ui/pane"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// Options configure the console.
type Options struct {
	Styles  styles.Styles
	Context string
	// Contexts is how many clusters are in view (--contexts): with more than one, Context
	// lists them ("prod-eu/shop, prod-us/shop"), the header counts each one's rollouts and
	// the footer says each one's state.
	Contexts int
	// Scopes are the contexts in view with their namespaces ("prod-eu/shop"), in order.
	Scopes []string
	// Namespace shown in the header; "" means all namespaces.
	Namespace string
	// Open is a rollout to open as soon as it appears (any kind when its Kind is "").
	Open ref.Rollout
	// Snapshots come from the watcher; the console ends its wait when the channel closes.
	Snapshots <-chan rollout.Snapshot
	// Now starts the clock; later times come with snapshots and ticks.
	Now time.Time
	// Actor halts, promotes and rolls back; nil disables the actions.
	Actor Actor
	// Metrics brings the rounds of error rates per revision (the metrics.Poller that
	// status --watch and guard use too); nil leaves the metric columns empty.
	Metrics MetricsFeed
	// AutoHalt halts a rollout whose canary breaches its thresholds AutoHaltAfter metric
	// rounds in a row (off by default).
	AutoHalt      bool
	AutoHaltAfter int
	// AutoAction is what AutoHalt does: halt (default), or with an explicit rollback, roll
	// back (a breaching canary to its stable, a release in its bake window to the revision
	// before it). Without it, a release that completed is never rolled back: the footer
	// says it breaches and how to roll it back.
	AutoAction guard.Act
	// Thresholds are the defaults (config file) under each Deployment's annotations.
	Thresholds guard.Thresholds
	// Inspector reads diffs and logs and writes snapshots; nil disables d, l and x.
	Inspector Inspector
	// Owners reads the rollouts' GitOps owners (Argo CD, Flux, Helm); nil reads none.
	Owners OwnerReader
	// User is who the console acts as, shown in the header when set (an SSH session names
	// the user its key maps to).
	User string
	// TestPanic, for the end-to-end tests only (PYROLL_TEST_PANIC), makes TestPanicKey
	// panic in Update ("update"), in View ("view") or in a command ("cmd").
	TestPanic string
}

// SnapshotMsg carries a new picture of the rollouts.
type SnapshotMsg rollout.Snapshot

type snapshotsClosedMsg struct{}

// tickMsg wakes the console; only the newest tick chain (gen) keeps ticking.
type tickMsg struct {
	at  time.Time
	gen int
}

type screen int

const (
	listScreen screen = iota
	detailScreen
	pageScreen // the diff or a pod's logs, over the list or the detail
)

// Model is the console. Its components (common.Component) are the pages (list, detail,
// the diff or logs page), the modal confirmation and filter, and the footer with the
// help; a key goes to the focused component first, then to the global bindings.
type Model struct {
	opts   Options
	styles styles.Styles
	keys   keys.Map
	list   list.Model
	detail detail.Model
	// page is the diff or a pod's logs (pageKind says which), over the list or the
	// detail: pageReturn is the screen esc returns to, whose rollout the keys act on.
	page       pane.Model
	pageKind   pageKind
	pageReturn screen
	logsPod    string // the pod whose logs are shown
	confirm    confirm.Model
	filter     filter.Model
	footer     footer.Model
	screen     screen
	tickGen    int
	snap       rollout.Snapshot
	received   bool
	perms      map[intent.Scope]intent.Permissions
	busy       bool // an action is in flight
	// verdicts are the last metrics round, judged once by the guard.
	verdicts guard.Verdicts
	polling  bool // the console waits for the metrics rounds
	// breaches are the canaries in BREACH this round (the banner, the bell).
	breaches map[ref.Rollout]guard.Judged
	// guardState is the guard's memory between rounds (streaks), for --auto-halt.
	guardState guard.State
	// owners are the GitOps owners of the rollouts in view as last read (ownersAt, on
	// the console's clock); ownersReading while a read is under way.
	owners        map[ref.Rollout]owner.View
	ownersAt      time.Time
	ownersReading bool
	now           time.Time
	width         int
	height        int
}

// New builds the console.
func New(o Options) Model {
	km := keys.New()
	m := Model{
		opts: o, styles: o.Styles, keys: km,
		list: list.New(o.Styles, km), detail: detail.New(o.Styles, km), page: pane.New(o.Styles, km),
		confirm: confirm.New(o.Styles, km), filter: filter.New(km), footer: footer.New(o.Styles, km),
		now: o.Now, perms: map[intent.Scope]intent.Permissions{}, guardState: guard.State{},
	}
	return m
}

// Init starts waiting for snapshots and the clock.
func (m Model) Init() tea.Cmd {
	return tea.Batch(waitForSnapshot(m.opts.Snapshots), tick(m.tickGen, time.Minute))
}

func waitForSnapshot(ch <-chan rollout.Snapshot) tea.Cmd {
	return func() tea.Msg {
		snap, ok := <-ch
		if !ok {
			return snapshotsClosedMsg{}
		}
		return SnapshotMsg(snap)
	}
}

// tick wakes the console to age its "5m" labels (minute granularity: the screen changes
// once a minute at most) or its "reconnecting 12s" counter.
func tick(gen int, every time.Duration) tea.Cmd {
	return tea.Tick(every, func(t time.Time) tea.Msg { return tickMsg{at: t, gen: gen} })
}

// tickInterval: every second while the footer counts a reconnect, else every minute.
func (m Model) tickInterval() time.Duration {
	if m.snap.Conn.State == rollout.ConnReconnecting {
		return time.Second
	}
	return time.Minute
}

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case SnapshotMsg:
		before := m.tickInterval()
		m.applySnapshot(rollout.Snapshot(msg))
		cmds := []tea.Cmd{waitForSnapshot(m.opts.Snapshots)}
		if m.tickInterval() != before {
			m.tickGen++
			cmds = append(cmds, tick(m.tickGen, m.tickInterval()))
		}
		if m.opts.Metrics != nil && m.snap.Synced {
			// The next round reads these rollouts (a hand-over, no I/O: the poller reads
			// Prometheus on its own goroutine).
			m.opts.Metrics.SetRollouts(m.snap.Rollouts)
			if !m.polling {
				m.polling = true
				cmds = append(cmds, waitForRound(m.opts.Metrics.Rounds()))
			}
		}
		if cmd := m.maybeReadOwners(); cmd != nil {
			cmds = append(cmds, cmd)
		}
		if m.opts.Actor != nil {
			for _, r := range m.snap.Rollouts {
				if scope := intent.ScopeOf(r.Ref()); !m.permsAsked(scope) {
					m.perms[scope] = intent.Permissions{Pending: true} // asked; nothing allowed until answered
					cmds = append(cmds, m.fetchPermissions(scope))
				}
			}
		}
		return m, tea.Batch(cmds...)
	case permissionsMsg, planMsg, resultMsg, confirm.AnsweredMsg:
		return m.handleActionMsg(msg)
	case diffMsg, logsMsg, incidentWrittenMsg:
		next, cmd := m.handleInspectMsg(msg)
		next.resize()
		return next, cmd
	case metricsMsg, metricsClosedMsg:
		return m.handleMetricsMsg(msg)
	case ownersMsg:
		return m.handleOwnersMsg(msg)
	case snapshotsClosedMsg:
		return m, nil
	case tickMsg:
		if msg.gen != m.tickGen {
			return m, nil
		}
		m.now = msg.at
		m.list.SetNow(m.now)
		m.detail.SetNow(m.now)
		return m, tick(m.tickGen, m.tickInterval())
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	if m.filter.Capturing() {
		return m, m.filter.Update(msg) // the cursor's blink
	}
	return m, nil
}

func (m *Model) applySnapshot(snap rollout.Snapshot) {
	m.snap, m.received = snap, true
	if !snap.At.IsZero() {
		m.now = snap.At
	}
	if !snap.HasRows() {
		return
	}
	m.list.SetRollouts(snap.Rollouts, m.now)
	if open := m.opts.Open; open.Name != "" {
		for _, r := range snap.Rollouts {
			if r.Name == open.Name && (open.Kind == "" || r.Kind == open.Kind) && (open.Namespace == "" || r.Namespace == open.Namespace) {
				m.list.Select(r.Ref())
				m.detail.Show(r, m.now)
				m.showOwner()
				m.screen = detailScreen
				m.opts.Open = ref.Rollout{}
				break
			}
		}
	}
	if m.screen == detailScreen {
		shown := m.detail.Rollout()
		found := false
		for _, r := range snap.Rollouts {
			if r.Ref() == shown.Ref() {
				m.detail.Show(r, m.now)
				m.showOwner()
				found = true
			}
		}
		if !found {
			m.detail.Gone()
		}
	}
}

// handleKey routes a key: ctrl+c quits whatever has the focus; then the focused
// component takes it if it is one of its keys (a modal one, the confirmation or the
// filter's input, takes them all); else the global bindings: quit, help, the actions, the
// inspection keys, and moving between screens.
func (m Model) handleKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	filtering := m.filter.Capturing()
	if focus := m.focused(); takes(focus, msg) {
		cmd := focus.Update(msg)
		if filtering {
			m.list.SetFilter(m.filter.Value())
			if !m.filter.Capturing() {
				m.resize()
			}
		}
		return m, cmd
	}
	return m.globalKey(msg)
}

// focused is the component keys go to first.
func (m *Model) focused() common.Component {
	switch {
	case m.confirm.Capturing():
		return &m.confirm
	case m.filter.Capturing():
		return &m.filter
	case m.screen == pageScreen:
		return &m.page
	case m.screen == detailScreen:
		return &m.detail
	default:
		return &m.list
	}
}

func takes(c common.Component, k tea.KeyPressMsg) bool {
	if modal, ok := c.(common.Modal); ok && modal.Capturing() {
		return true
	}
	return common.Takes(c, k)
}

// globalKey handles the keys no focused component took, in this order: quit and help,
// the actions (h p r), the inspection keys (d l x, tab on the logs), then the screen's
// own moves (enter opens, esc goes back, / filters).
func (m Model) globalKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.Help):
		cmd := m.footer.Update(msg)
		m.resize()
		return m, cmd
	}
	if next, cmd, handled := m.actionKey(msg); handled {
		next.resize()
		return next, cmd
	}
	if next, cmd, handled := m.inspectKey(msg); handled {
		next.resize()
		return next, cmd
	}
	switch {
	case m.screen == pageScreen && key.Matches(msg, m.keys.Back):
		m.screen = m.pageReturn
	case m.screen == detailScreen && key.Matches(msg, m.keys.Back):
		m.screen = listScreen
	case m.screen != listScreen:
	case key.Matches(msg, m.keys.Open):
		if r, ok := m.list.Selected(); ok {
			m.detail.Show(r, m.now)
			m.showOwner()
			m.screen = detailScreen
			return m, m.readOwnerOf(r)
		}
	case key.Matches(msg, m.keys.Filter):
		cmd := m.filter.Open(m.list.Filter())
		m.resize()
		return m, cmd
	case key.Matches(msg, m.keys.Back) && m.list.Filter() != "":
		m.filter.Clear()
		m.list.SetFilter("")
	case key.Matches(msg, m.keys.Group) && m.list.SeveralClusters():
		m.list.SetGrouped(!m.list.Grouped())
		status := footer.Status{Text: "trouble first (c groups each rollout's clusters together)"}
		if m.list.Grouped() {
			status.Text = "each rollout's clusters together (c again: trouble first)"
		}
		m.footer.SetStatus(status)
	}
	return m, nil
}

// footerAndBodyHeight lays the screen out: one header line, the footer (cut when the
// window is too short for all of it, e.g. the full help), and the body in between.
func (m Model) footerAndBodyHeight() ([]string, int) {
	footer := m.footerFrame().Lines()
	if limit := max(m.height-2, 1); len(footer) > limit {
		footer = footer[:limit]
	}
	return footer, max(m.height-1-len(footer), 1)
}

func (m *Model) bodyHeight() int {
	_, h := m.footerAndBodyHeight()
	return h
}

func (m *Model) resize() {
	m.footer.SetSize(m.width, 0)
	m.confirm.SetSize(m.width, 0)
	m.filter.SetSize(m.width, 0)
	body := m.bodyHeight()
	m.list.SetSize(m.width, body)
	m.detail.SetSize(m.width, body)
	m.page.SetSize(m.width, body)
}

// View draws the whole screen: header, body, footer; exactly width x height cells.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "kubectl pyroll"
	return v
}

func (m Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.width < 20 || m.height < 5 {
		return fit(fmt.Sprintf("kubectl-pyroll: window too small (%dx%d); q quits", m.width, m.height), m.width, m.height)
	}
	body := m.bodyView()
	footer, bodyHeight := m.footerAndBodyHeight()
	return strings.Join([]string{
		fit(m.headerLine(), m.width, 1),
		fitPadded(body, m.width, bodyHeight),
		fit(strings.Join(footer, "\n"), m.width, len(footer)),
	}, "\n")
}

func (m Model) bodyView() string {
	switch {
	case !m.received || (!m.snap.HasRows() && m.snap.Conn.State == rollout.ConnSyncing):
		return m.styles.Dim.Render("Reading rollouts from the cluster…")
	case m.snap.Conn.State == rollout.ConnForbidden && !m.snap.Synced && (len(m.snap.Clusters) <= 1 || !m.snap.HasRows()):
		// One cluster of several refused: the others' rows stay, the footer says which.
		return m.styles.Error.Render("Forbidden: "+m.snap.Conn.Message.String()) + "\n" +
			"The console " + m.snap.Conn.Hint.String() + ". q quits."
	case m.screen == pageScreen:
		return m.page.View()
	case m.screen == detailScreen:
		return m.detail.View()
	default:
		return m.list.View()
	}
}

func (m Model) headerLine() string {
	where := m.opts.Context + "/" + m.opts.Namespace
	switch {
	case m.opts.Namespace == "":
		where = m.opts.Context + ", all namespaces"
	case m.opts.Contexts > 1:
		where = m.opts.Context // each context with its namespace
	}
	if len(m.snap.Clusters) > 1 {
		where = m.clustersCount()
	}
	if m.opts.User != "" {
		where = m.opts.User + " " + m.styles.Glyphs.Dot + " " + where
	}
	counts := map[rollout.Phase]int{}
	for _, r := range m.snap.Rollouts {
		counts[r.Phase]++
	}
	var parts []string
	for _, p := range rollout.Phases {
		if counts[p] > 0 {
			parts = append(parts, m.styles.Phase[p].Render(fmt.Sprintf("%d %s", counts[p], p)))
		}
	}
	summary := strings.Join(parts, " ")
	if shown, total := m.list.Shown(); m.list.Filter() != "" {
		summary += m.styles.Dim.Render(fmt.Sprintf("  (%d of %d shown, filter %q)", shown, total, m.list.Filter()))
	}
	if m.list.Grouped() {
		// The footer said so when c was pressed; the header keeps saying why the rows are
		// not trouble first.
		summary += m.styles.Dim.Render("  (each rollout's clusters together)")
	}
	return m.styles.Title.Render("kubectl pyroll") + m.styles.Dim.Render(" "+m.styles.Glyphs.Dot+" "+where+"  ") + summary
}

// clustersCount is each context with how many rollouts it has ("…" before its rows):
// "prod-eu/shop 3, prod-us/shop 2".
func (m Model) clustersCount() string {
	parts := make([]string, 0, len(m.snap.Clusters))
	for i, c := range m.snap.Clusters {
		name := c.Context
		if i < len(m.opts.Scopes) {
			name = m.opts.Scopes[i]
		}
		count := "…"
		if c.HasRows() {
			count = fmt.Sprint(c.Rollouts)
		}
		parts = append(parts, name+" "+count)
	}
	return strings.Join(parts, ", ")
}

// footerFrame is the footer as this frame shows it.
func (m Model) footerFrame() footer.Model {
	f := m.footer
	f.SetBanner(m.breachBanner())
	f.SetPrompt(m.filter.View(), m.confirm.View())
	f.SetConnection(m.connectionLine())
	f.SetKeys(m.helpKeys())
	return f
}

// helpKeys are the keys the help shows for what has the focus, most important first,
// with the actions not allowed on the target disabled, and why.
func (m Model) helpKeys() (help.KeyMap, string) {
	switch {
	case m.confirm.Capturing():
		return m.confirm, ""
	case m.filter.Capturing():
		return m.filter, ""
	}
	km, why := m.keys, ""
	if r, ok := m.target(); ok && r.Kind == ref.ArgoRollout {
		km = km.ForArgo()
	}
	if m.list.SeveralClusters() {
		km = km.ForClusters()
	}
	for _, a := range []struct {
		action  intent.Action
		binding *key.Binding
	}{{intent.Halt, &km.Halt}, {intent.Promote, &km.Promote}, {intent.PromoteFull, &km.PromoteFull}, {intent.Rollback, &km.Rollback}} {
		if allowed, reason := m.allowed(a.action); !allowed {
			a.binding.SetEnabled(false)
			why = reason
		}
	}
	switch m.screen {
	case pageScreen:
		return keys.PaneHelp{Map: km, Logs: m.pageKind == logsPage}, why
	case detailScreen:
		return keys.DetailHelp{Map: km}, why
	}
	return keys.ListHelp{Map: km}, why
}

// allowed says whether an action may be taken on the target, and why not. With no target
// there is nothing to grey out; a target whose permissions are not answered yet is denied
// ("checking permissions…") until they are.
func (m Model) allowed(a intent.Action) (bool, string) {
	if m.opts.Actor == nil {
		return false, "no cluster to act on"
	}
	r, ok := m.target()
	if !ok {
		return true, ""
	}
	return m.permissions(r).Allowed(a)
}

// permissions are the answered permissions of r's scope, else pending.
func (m Model) permissions(r rollout.Rollout) intent.Permissions {
	if perms, answered := m.perms[intent.ScopeOf(r.Ref())]; answered {
		return perms
	}
	return intent.Permissions{Pending: true}
}

func (m Model) connectionLine() string {
	line := m.connectionState() + m.styles.Dim.Render("  "+m.styles.Glyphs.Dot+" ") + m.metricsState()
	if m.opts.Actor == nil {
		return line
	}
	for _, a := range []intent.Action{intent.Halt, intent.Promote, intent.Rollback} {
		if allowed, why := m.allowed(a); !allowed {
			line += m.styles.Dim.Render("  " + m.styles.Glyphs.Dot + " actions off: " + why)
			break
		}
	}
	return line
}

func (m Model) connectionState() string {
	if len(m.snap.Clusters) > 1 {
		return m.clustersState()
	}
	return m.oneConnectionState(m.snap.Conn, m.snap.PodsSyncing, m.snap.PodsRead)
}

// clustersState is each context's state, "prod-eu live · prod-us reconnecting 12s (…)":
// all live is one word.
func (m Model) clustersState() string {
	live := true
	for _, c := range m.snap.Clusters {
		live = live && c.Conn.State == rollout.ConnLive
	}
	if live {
		return m.styles.Ready.Render("live") + m.styles.Dim.Render(fmt.Sprintf(" (%d contexts)", len(m.snap.Clusters)))
	}
	parts := make([]string, 0, len(m.snap.Clusters))
	for _, c := range m.snap.Clusters {
		parts = append(parts, c.Context+" "+m.oneConnectionState(c.Conn, c.PodsSyncing, c.PodsRead))
	}
	return strings.Join(parts, m.styles.Dim.Render(" "+m.styles.Glyphs.Dot+" "))
}

// oneConnectionState is one connection's word: live, reconnecting 12s (why), …
func (m Model) oneConnectionState(c rollout.Connection, podsSyncing bool, podsRead int) string {
	switch c.State {
	case rollout.ConnLive:
		return m.styles.Ready.Render("live")
	case rollout.ConnReconnecting:
		since := m.now.Sub(c.Since).Round(time.Second)
		if since < 0 {
			since = 0
		}
		return m.styles.Warning.Render(fmt.Sprintf("reconnecting %s", since)) + m.styles.Dim.Render(" (showing the last known state): "+c.Message.String())
	case rollout.ConnForbidden:
		return m.styles.Error.Render("forbidden: " + c.Message.String())
	default:
		if podsSyncing {
			return m.styles.Dim.Render(readingPods(podsRead))
		}
		return m.styles.Dim.Render("syncing…")
	}
}

// readingPods is the footer's word while the rows are on screen and the pods still
// stream: "reading pods 23,000…" ("reading pods…" before a count).
func readingPods(n int) string {
	if n <= 0 {
		return "reading pods…"
	}
	return "reading pods " + textfmt.Thousands(n) + "…"
}

// fit cuts s to at most width cells a line and height lines.
func fit(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, width, "")
	}
	return strings.Join(lines, "\n")
}

// fitPadded is fit, padded with empty lines to exactly height lines.
func fitPadded(s string, width, height int) string {
	lines := strings.Split(fit(s, width, height), "\n")
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
