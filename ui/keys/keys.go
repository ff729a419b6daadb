// Package keys holds the console's key bindings, with their help texts.
package keys

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
)

// Map is every binding of the console. A fresh Map per program: nothing global.
type Map struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	// Move is up and down as one entry of the short help.
	Move                        key.Binding
	Open, Back                  key.Binding
	Filter, ClearFilter, Accept key.Binding
	// Group (c) puts one rollout's rows in several clusters one under another; only with
	// several contexts in view (Clusters).
	Group                   key.Binding
	Halt, Promote, Rollback key.Binding
	// PromoteFull (P) is an Argo Rollout's full promote; shown only for one.
	PromoteFull          key.Binding
	Diff, Logs, Snapshot key.Binding
	NextPod              key.Binding
	Confirm, Cancel      key.Binding
	// Anyway answers a question that offers to hold a GitOps owner first: act without it.
	Anyway key.Binding
	// ReleaseHold (R) gives back a GitOps owner a halt or rollback held.
	ReleaseHold key.Binding
	Help, Quit  key.Binding
	// Argo: the keys are named for an Argo Rollout (ForArgo).
	Argo bool
	// Clusters: several contexts are in view (ForClusters): c groups.
	Clusters bool
}

// New returns the default bindings (DESIGN.md §3).
func New() Map {
	return Map{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom")),
		Move:        key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Accept:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		Group:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "group clusters")),
		Halt:        key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "halt")),
		Promote:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "promote")),
		Rollback:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rollback")),
		PromoteFull: key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "full promote")),
		Diff:        key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "what changed")),
		Logs:        key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logs")),
		Snapshot:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "snapshot")),
		NextPod:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pod")),
		Confirm:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
		Cancel:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Anyway:      key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "without holding")),
		ReleaseHold: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "release hold")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// The short helps list their bindings most important first: the help drops the last
// ones when the line is too narrow, so the actions, ? and q always show at 80 columns.

// ForArgo names the action keys as an Argo Rollout's: h aborts, r undoes, and P (full
// promote) exists.
func (m Map) ForArgo() Map {
	m.Halt.SetHelp("h", "abort")
	m.Rollback.SetHelp("r", "undo")
	m.Argo = true
	return m
}

// ForClusters shows c (one rollout's rows across clusters together) in the list's help.
func (m Map) ForClusters() Map {
	m.Clusters = true
	return m
}

// actions are the action keys in help order; P only for an Argo Rollout.
func (m Map) actions() []key.Binding {
	if m.Argo {
		return []key.Binding{m.Halt, m.Promote, m.PromoteFull, m.Rollback}
	}
	return []key.Binding{m.Halt, m.Promote, m.Rollback}
}

// ListHelp is the list screen's help.
type ListHelp struct{ Map }

func (h ListHelp) ShortHelp() []key.Binding {
	short := append([]key.Binding{h.Open}, h.actions()...)
	short = append(short, h.Help, h.Quit, h.Diff, h.Logs, h.Filter)
	if h.Clusters {
		short = append(short, h.Group)
	}
	return append(short, h.Snapshot)
}

func (h ListHelp) FullHelp() [][]key.Binding {
	view := []key.Binding{h.Open, h.Filter, h.ClearFilter}
	if h.Clusters {
		view = append(view, h.Group)
	}
	return [][]key.Binding{{h.Up, h.Down, h.PageUp, h.PageDown, h.Top, h.Bottom}, view,
		h.actions(), {h.Diff, h.Logs, h.Snapshot}, {h.Help, h.Quit}}
}

// DetailHelp is the detail screen's help.
type DetailHelp struct{ Map }

func (h DetailHelp) ShortHelp() []key.Binding {
	short := append([]key.Binding{h.Back}, h.actions()...)
	return append(short, h.Help, h.Quit, h.Diff, h.Logs, h.Snapshot)
}

func (h DetailHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{{h.Up, h.Down, h.PageUp, h.PageDown, h.Top, h.Bottom}, {h.Back}, append(h.actions(), h.ReleaseHold),
		{h.Diff, h.Logs, h.Snapshot}, {h.Help, h.Quit}}
}

// PaneHelp is the help of the diff and logs pages.
type PaneHelp struct {
	Map
	Logs bool // tab moves to the next pod
}

func (h PaneHelp) ShortHelp() []key.Binding {
	if h.Logs {
		return []key.Binding{h.Back, h.NextPod, h.Help, h.Quit, h.Move}
	}
	return []key.Binding{h.Back, h.Help, h.Quit, h.Move}
}

func (h PaneHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{{h.Up, h.Down, h.PageUp, h.PageDown}, h.ShortHelp()}
}

// Viewport is the scrolling keys of a page (detail, diff, logs): only movement, since
// letters are the console's (h halts, d diffs, l shows logs).
func (m Map) Viewport() viewport.KeyMap {
	off := key.NewBinding(key.WithDisabled())
	return viewport.KeyMap{Up: m.Up, Down: m.Down, PageUp: m.PageUp, PageDown: m.PageDown,
		HalfPageUp: off, HalfPageDown: off, Left: off, Right: off}
}
