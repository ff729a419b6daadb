// Package app is the console's root model: it owns the list, the detail, the filter and
// the help, receives snapshots from the watcher as messages and routes keys.
package app

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/detail"
	"github.com/pyroll/kubectl-pyroll/ui/keys"
	"github.com/pyroll/kubectl-pyroll/ui/list"
	"github.com/pyroll/kubectl-pyroll/ui/pane"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// Options configure the console.
type Options struct {
	Styles  styles.Styles
	Context string
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
	// Metrics reads error rates per revision; nil leaves the metric columns empty.
	Metrics         MetricsSource
	MetricsInterval time.Duration
	// AutoHalt halts a rollout whose canary breaches its thresholds AutoHaltAfter metric
	// rounds in a row (off by default).
	AutoHalt      bool
	AutoHaltAfter int
	// Thresholds are the defaults (config file) under each Deployment's annotations.
	Thresholds guard.Thresholds
	// Inspector reads diffs and logs and writes snapshots; nil disables d, l and x.
	Inspector Inspector
}

// statusLine is the footer's answer to the last action.
type statusLine struct {
	text      string
	good, bad bool
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
	paneScreen // the diff or a pod's logs, over the list or the detail
)

// Model is the console.
type Model struct {
	opts     Options
	styles   styles.Styles
	keys     keys.Map
	list     list.Model
	detail   detail.Model
	paneView pane.Model
	pane     paneKind
	// paneReturn is the screen esc returns to from the pane, whose rollout the keys act on.
	paneReturn screen
	logsPod    string // the pod whose logs are shown
	help       help.Model
	filter     textinput.Model
	screen     screen
	filterOn   bool
	fullHelp   bool
	tickGen    int
	snap       rollout.Snapshot
	received   bool
	perms      map[intent.Scope]intent.Permissions
	pending    *intent.Plan // a confirmation waiting for y or n
	busy       bool         // an action is in flight
	status     statusLine
	metrics    metrics.Report
	polling    bool                   // the metrics poll loop has started
	breaches   map[ref.Rollout]string // rollout key -> why its canary breaches
	// breachStreak counts consecutive breaching metric rounds per rollout key.
	breachStreak map[ref.Rollout]int
	now          time.Time
	width        int
	height       int
}

// New builds the console.
func New(o Options) Model {
	km := keys.New()
	h := help.New()
	h.Styles = help.DefaultStyles(true)
	if !o.Styles.Color {
		h.Styles = help.Styles{}
	}
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "name"
	m := Model{
		opts: o, styles: o.Styles, keys: km,
		list: list.New(o.Styles, km), detail: detail.New(o.Styles, km), paneView: pane.New(o.Styles, km),
		help: h, filter: ti, now: o.Now, perms: map[intent.Scope]intent.Permissions{},
	}
	m.list.SetThresholds(o.Thresholds)
	m.detail.SetThresholds(o.Thresholds)
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
		if m.opts.Metrics != nil && m.snap.Synced && !m.polling {
			m.polling = true
			cmds = append(cmds, m.pollMetrics())
		}
		if m.opts.Actor != nil {
			for _, r := range m.snap.Rollouts {
				if scope := intent.ScopeOf(r.Ref()); !m.permsAsked(scope) {
					m.perms[scope] = intent.Permissions{} // asked; allowed until answered
					cmds = append(cmds, m.fetchPermissions(scope))
				}
			}
		}
		return m, tea.Batch(cmds...)
	case permissionsMsg, planMsg, resultMsg:
		return m.handleActionMsg(msg)
	case diffMsg, logsMsg, snapshotMsg:
		next, cmd := m.handleInspectMsg(msg)
		next.resize()
		return next, cmd
	case metricsMsg, metricsTickMsg:
		return m.handleMetricsMsg(msg)
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
	if m.filterOn {
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) applySnapshot(snap rollout.Snapshot) {
	m.snap, m.received = snap, true
	if !snap.At.IsZero() {
		m.now = snap.At
	}
	if !snap.Synced {
		return
	}
	m.list.SetRollouts(snap.Rollouts, m.now)
	if open := m.opts.Open; open.Name != "" {
		for _, r := range snap.Rollouts {
			if r.Name == open.Name && (open.Kind == "" || r.Kind == open.Kind) && (open.Namespace == "" || r.Namespace == open.Namespace) {
				m.list.Select(r.Ref())
				m.detail.Show(r, m.now)
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
				found = true
			}
		}
		if !found {
			m.detail.Gone()
		}
	}
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	if m.pending != nil {
		return m.confirmKey(msg)
	}
	if m.filterOn {
		switch {
		case key.Matches(msg, m.keys.ClearFilter):
			m.filterOn = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.list.SetFilter("")
			m.resize()
			return m, nil
		case key.Matches(msg, m.keys.Accept):
			m.filterOn = false
			m.filter.Blur()
			m.resize()
			return m, nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.list.SetFilter(m.filter.Value())
		return m, cmd
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.fullHelp = !m.fullHelp
		m.resize()
		return m, nil
	}
	if next, cmd, handled := m.actionKey(msg); handled {
		next.resize()
		return next, cmd
	}
	if next, cmd, handled := m.inspectKey(msg); handled {
		next.resize()
		return next, cmd
	}
	if m.screen == paneScreen {
		if key.Matches(msg, m.keys.Back) {
			m.screen = m.paneReturn
			return m, nil
		}
		var cmd tea.Cmd
		m.paneView, cmd = m.paneView.Update(msg)
		return m, cmd
	}
	if m.screen == detailScreen {
		if key.Matches(msg, m.keys.Back) {
			m.screen = listScreen
			return m, nil
		}
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(msg)
		return m, cmd
	}
	switch {
	case key.Matches(msg, m.keys.Open):
		if r, ok := m.list.Selected(); ok {
			m.detail.Show(r, m.now)
			m.screen = detailScreen
		}
		return m, nil
	case key.Matches(msg, m.keys.Filter):
		m.filterOn = true
		m.filter.SetValue(m.list.Filter())
		m.resize()
		return m, m.filter.Focus()
	case key.Matches(msg, m.keys.Back) && m.list.Filter() != "":
		m.filter.SetValue("")
		m.list.SetFilter("")
		return m, nil
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	return m, cmd
}

// footerAndBodyHeight lays the screen out: one header line, the footer (cut when the
// window is too short for all of it, e.g. the full help), and the body in between.
func (m Model) footerAndBodyHeight() ([]string, int) {
	footer := m.footerLines()
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
	m.help.SetWidth(m.width)
	m.filter.SetWidth(max(m.width-2, 1))
	m.list.SetSize(m.width, m.bodyHeight())
	m.detail.SetSize(m.width, m.bodyHeight())
	m.paneView.SetSize(m.width, m.bodyHeight())
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
	case !m.received || (!m.snap.Synced && m.snap.Conn.State == rollout.ConnSyncing):
		return m.styles.Dim.Render("Reading rollouts from the cluster…")
	case m.snap.Conn.State == rollout.ConnForbidden && !m.snap.Synced:
		return m.styles.Error.Render("Forbidden: "+m.snap.Conn.Message) + "\n" +
			"The console " + m.snap.Conn.Hint + ". q quits."
	case m.screen == paneScreen:
		return m.paneView.View()
	case m.screen == detailScreen:
		return m.detail.View()
	default:
		return m.list.View()
	}
}

func (m Model) headerLine() string {
	where := m.opts.Context + "/" + m.opts.Namespace
	if m.opts.Namespace == "" {
		where = m.opts.Context + ", all namespaces"
	}
	counts := map[rollout.Phase]int{}
	for _, r := range m.snap.Rollouts {
		counts[r.Phase]++
	}
	var parts []string
	for _, p := range []rollout.Phase{rollout.PhaseFailed, rollout.PhaseDegraded, rollout.PhaseHalted, rollout.PhaseProgressing, rollout.PhaseComplete} {
		if counts[p] > 0 {
			parts = append(parts, m.styles.Phase[p].Render(fmt.Sprintf("%d %s", counts[p], p)))
		}
	}
	summary := strings.Join(parts, " ")
	if shown, total := m.list.Shown(); m.list.Filter() != "" {
		summary += m.styles.Dim.Render(fmt.Sprintf("  (%d of %d shown, filter %q)", shown, total, m.list.Filter()))
	}
	return m.styles.Title.Render("kubectl pyroll") + m.styles.Dim.Render(" "+m.styles.Glyphs.Dot+" "+where+"  ") + summary
}

func (m Model) footerLines() []string {
	var lines []string
	if banner := m.breachBanner(); banner != "" {
		lines = append(lines, strings.Split(ansi.Wordwrap(banner, max(m.width, 10), ""), "\n")...)
	}
	if m.filterOn {
		lines = append(lines, m.filter.View())
	}
	if m.pending != nil {
		question := m.styles.Warning.Render(m.pending.Message+"?") + "  " + m.styles.Bold.Render("y/n")
		lines = append(lines, strings.Split(ansi.Wordwrap(question, max(m.width, 10), ""), "\n")...)
	} else if m.status.text != "" {
		style := m.styles.Dim
		switch {
		case m.status.bad:
			style = m.styles.Error
		case m.status.good:
			style = m.styles.Ready
		}
		lines = append(lines, strings.Split(ansi.Wordwrap(style.Render(m.status.text), max(m.width, 10), ""), "\n")...)
	}
	lines = append(lines, m.connectionLine())
	var helpView string
	switch {
	case m.pending != nil:
		helpView = m.helpView(keys.ConfirmHelp{Map: m.keys})
	case m.filterOn:
		helpView = m.helpView(keys.FilterHelp{Map: m.keys})
	case m.screen == paneScreen:
		helpView = m.helpView(keys.PaneHelp{Map: m.keys, Logs: m.pane == logsPane})
	case m.screen == detailScreen:
		helpView = m.helpView(keys.DetailHelp{Map: m.keys})
	default:
		helpView = m.helpView(keys.ListHelp{Map: m.keys})
	}
	return append(lines, strings.Split(helpView, "\n")...)
}

func (m Model) helpView(k help.KeyMap) string {
	if m.fullHelp {
		return m.help.FullHelpView(k.FullHelp())
	}
	return m.help.ShortHelpView(k.ShortHelp())
}

func (m Model) connectionLine() string {
	line := m.connectionState() + m.styles.Dim.Render("  "+m.styles.Glyphs.Dot+" ") + m.metricsState()
	if r, ok := m.target(); ok && m.opts.Actor != nil {
		for _, a := range []intent.Action{intent.Halt, intent.Promote, intent.Rollback} {
			if allowed, why := m.perms[intent.ScopeOf(r.Ref())].Allowed(a); !allowed {
				line += m.styles.Dim.Render("  " + m.styles.Glyphs.Dot + " actions off: " + why)
				break
			}
		}
	}
	return line
}

func (m Model) connectionState() string {
	c := m.snap.Conn
	switch c.State {
	case rollout.ConnLive:
		return m.styles.Ready.Render("live")
	case rollout.ConnReconnecting:
		since := m.now.Sub(c.Since).Round(time.Second)
		if since < 0 {
			since = 0
		}
		return m.styles.Warning.Render(fmt.Sprintf("reconnecting %s", since)) + m.styles.Dim.Render(" (showing the last known state): "+c.Message)
	case rollout.ConnForbidden:
		return m.styles.Error.Render("forbidden: " + c.Message)
	default:
		return m.styles.Dim.Render("syncing…")
	}
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
