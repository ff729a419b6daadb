// Package common holds what the console's components share: the Component interface.
package common

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Component is one part of the console's screen (the list, the detail, a page of diff or
// logs, the confirmation, the help, the footer), after soft-serve's pkg/ui/common.
//
// It is a tea model cut to size: it draws a part of the screen (View returns a string,
// not a whole tea.View frame), is told the cells it has (SetSize), and says which keys it
// takes (help.KeyMap: what the footer's help shows, and what the root routes to it).
// Update changes the component in place: the root model is a value copied on every
// message, so a component held by value in it is never shared between two frames.
type Component interface {
	help.KeyMap
	SetSize(width, height int)
	Update(msg tea.Msg) tea.Cmd
	View() string
}

// Modal is a Component that takes every key while it is shown (a confirmation, the
// filter's input): nothing else sees a key until it closes.
type Modal interface {
	Component
	Capturing() bool
}

// Takes reports whether k is one of the component's own (enabled) bindings.
func Takes(c help.KeyMap, k tea.KeyPressMsg) bool {
	for _, group := range c.FullHelp() {
		if key.Matches(k, group...) {
			return true
		}
	}
	return false
}
