package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/pytrace"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/footer"
)

// Inspector reads what the console shows on demand: the diff between revisions, a pod's
// logs, and writes incident snapshots (the CLI hands it the cluster client). Its methods
// do I/O, so the console calls them only inside commands.
type Inspector interface {
	Diff(ctx context.Context, target ref.Rollout) (DiffView, error)
	Logs(ctx context.Context, target ref.Rollout, pod rollout.Pod) (LogView, error)
	Snapshot(ctx context.Context, r rollout.Rollout, report metrics.Report) (path, markdown string, err error)
}

// DiffView is what changed from one revision to another.
type DiffView struct {
	From, To int64
	Diff     provenance.Diff
}

// LogView is the tail of one pod's log.
type LogView struct {
	Pod      string
	Previous bool // the container before the last restart
	Text     string
}

type pageKind int

const (
	diffPage pageKind = iota + 1
	logsPage
)

type diffMsg struct {
	rollout string
	view    DiffView
	err     error
}

type logsMsg struct {
	view LogView
	err  error
}

type incidentWrittenMsg struct {
	path, markdown string
	err            error
}

const inspectTimeout = 20 * time.Second

func (m Model) inspect(do func(ctx context.Context, in Inspector) tea.Msg) tea.Cmd {
	in := m.opts.Inspector
	return withDeadline(inspectTimeout, func(ctx context.Context) tea.Msg { return do(ctx, in) })
}

// inspectKey handles d, l, x and, on the logs page, tab; ok is false for other keys.
func (m Model) inspectKey(msg tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	switch {
	case key.Matches(msg, m.keys.Diff), key.Matches(msg, m.keys.Logs), key.Matches(msg, m.keys.Snapshot):
	case key.Matches(msg, m.keys.NextPod) && m.screen == pageScreen && m.pageKind == logsPage:
		r, _ := m.target()
		pods := podsByTrouble(r)
		if len(pods) < 2 {
			return m, nil, true
		}
		next := pods[0]
		for i, p := range pods {
			if p.Name == m.logsPod {
				next = pods[(i+1)%len(pods)]
			}
		}
		return m.openLogs(next)
	default:
		return m, nil, false
	}
	r, ok := m.target()
	if !ok {
		return m, nil, true
	}
	if m.opts.Inspector == nil {
		m.footer.SetStatus(footer.Status{Text: "not connected to a cluster", Bad: true})
		return m, nil, true
	}
	switch {
	case key.Matches(msg, m.keys.Diff):
		m.footer.SetStatus(footer.Status{Text: safetext.Line("reading what changed in " + r.Name + "…")})
		name := r.Name
		return m, m.inspect(func(ctx context.Context, in Inspector) tea.Msg {
			view, err := in.Diff(ctx, r.Ref())
			return diffMsg{rollout: name, view: view, err: err}
		}), true
	case key.Matches(msg, m.keys.Logs):
		pods := podsByTrouble(r)
		if len(pods) == 0 {
			m.footer.SetStatus(footer.Status{Text: safetext.Line(r.Name + " has no pods"), Bad: true})
			return m, nil, true
		}
		return m.openLogs(pods[0])
	default:
		m.footer.SetStatus(footer.Status{Text: safetext.Line("writing a snapshot of " + r.Name + "…")})
		report := m.verdicts.Report
		return m, m.inspect(func(ctx context.Context, in Inspector) tea.Msg {
			path, md, err := in.Snapshot(ctx, r, report)
			return incidentWrittenMsg{path: path, markdown: md, err: err}
		}), true
	}
}

func (m Model) openLogs(p *rollout.Pod) (Model, tea.Cmd, bool) {
	r, _ := m.target()
	m.logsPod = p.Name
	m.footer.SetStatus(footer.Status{Text: safetext.Line("reading the logs of " + p.Name + "…")})
	return m, m.inspect(func(ctx context.Context, in Inspector) tea.Msg {
		view, err := in.Logs(ctx, r.Ref(), *p)
		return logsMsg{view: view, err: err}
	}), true
}

// podsByTrouble are the rollout's pods, failing canary pods first: the ones whose logs
// matter in an incident.
func podsByTrouble(r rollout.Rollout) []*rollout.Pod {
	var failing, rest []*rollout.Pod
	for _, rev := range r.Revisions {
		for _, p := range rev.Pods {
			if p.Failing() || p.Restarts > 0 {
				failing = append(failing, p)
			} else {
				rest = append(rest, p)
			}
		}
	}
	return append(failing, rest...)
}

func (m Model) handleInspectMsg(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case diffMsg:
		if msg.err != nil {
			m.footer.SetStatus(footer.Status{Text: safetext.Line("what changed: " + msg.err.Error()), Bad: true})
			return m, nil
		}
		m.footer.SetStatus(footer.Status{})
		arrows := provenance.UnicodeArrows
		if m.styles.ASCII {
			arrows = provenance.ASCIIArrows
		}
		var lines []string
		for _, l := range msg.view.Diff.Lines(msg.view.From, msg.view.To, arrows) {
			lines = append(lines, m.styleDiffLine(l))
		}
		m.openPage(diffPage, fmt.Sprintf("%s: what changed, rev %d %s %d", msg.rollout, msg.view.From, arrows.To, msg.view.To), "", lines, 0)
	case logsMsg:
		if msg.err != nil {
			m.footer.SetStatus(footer.Status{Text: safetext.Line("logs: " + msg.err.Error()), Bad: true})
			return m, nil
		}
		m.footer.SetStatus(footer.Status{})
		title, pinned, lines, last := m.logPage(msg.view)
		m.openPage(logsPage, title, pinned, lines, last)
	case incidentWrittenMsg:
		if msg.err != nil {
			m.footer.SetStatus(footer.Status{Text: safetext.Line("snapshot: " + msg.err.Error()), Bad: true})
			return m, nil
		}
		// OSC 52 puts the report on the clipboard of the terminal in front of the user,
		// through SSH and tmux.
		text := "snapshot written to " + msg.path + " (and copied to the clipboard)"
		if msg.path == "" { // written nowhere (a console served over SSH)
			text = "snapshot copied to the clipboard"
		}
		m.footer.SetStatus(footer.Status{Text: safetext.Line(text), Good: true})
		return m, tea.SetClipboard(msg.markdown)
	}
	return m, nil
}

func (m *Model) openPage(kind pageKind, title, pinned string, lines []string, last int) {
	if m.screen != pageScreen {
		m.pageReturn = m.screen
	}
	m.screen, m.pageKind = pageScreen, kind
	m.resize()
	m.page.Show(title, pinned, lines, last)
}

func (m Model) styleDiffLine(l provenance.Line) string {
	text := l.Text.String()
	switch l.Kind {
	case provenance.KindAdded:
		return m.styles.Ready.Render(text)
	case provenance.KindRemoved:
		return m.styles.Failing.Render(text)
	case provenance.KindChanged:
		return m.styles.Warning.Render(text)
	}
	return m.styles.Section.Render(text)
}

// logPage lays out a pod's log: the Python exception pinned under the title, the log with
// its traceback highlighted, scrolled so the traceback ends at the bottom. The pod writes
// its log: each line is shown as safetext.Log makes it, its words without its escapes.
func (m Model) logPage(v LogView) (title, pinned string, lines []string, last int) {
	title = "logs of " + v.Pod
	if v.Previous {
		title += " (previous container, before the last restart)"
	}
	raw := strings.Split(strings.TrimRight(v.Text, "\n"), "\n")
	tb, found := pytrace.Find(v.Text)
	if hint := pytrace.Hint(v.Text); hint != "" {
		pinned = m.styles.Failing.Render(m.styles.Glyphs.PodFailing + " " + hint.String())
	} else if !found {
		pinned = m.styles.Dim.Render("no Python traceback in the last lines")
	}
	for i, r := range raw {
		l := safetext.Log(r).String()
		if found && i >= tb.Start && i < tb.End {
			l = m.styles.Failing.Render(l)
		}
		lines = append(lines, l)
	}
	last = len(lines) - 1
	if found {
		last = tb.End - 1
	}
	if strings.TrimSpace(v.Text) == "" {
		lines = []string{m.styles.Dim.Render("(the log is empty)")}
		last = 0
	}
	return title, pinned, lines, last
}
