package app

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

func TestRemoteSizesAreClampedAndKeysCounted(t *testing.T) {
	keys := 0
	remote := Terminal{Remote: true, OnKey: func() { keys++ }}
	for in, want := range map[[2]int][2]int{
		{65535, 65535}: {MaxWidth, MaxHeight},
		{0, 0}:         {0, 0},
		{-5, 30}:       {0, 30},
		{120, 30}:      {120, 30},
		{4000, 20}:     {MaxWidth, 20},
	} {
		got := remote.filter(nil, tea.WindowSizeMsg{Width: in[0], Height: in[1]}).(tea.WindowSizeMsg)
		if got.Width != want[0] || got.Height != want[1] {
			t.Errorf("remote %v: %dx%d; want %v", in, got.Width, got.Height, want)
		}
	}
	if got := (Terminal{}).filter(nil, tea.WindowSizeMsg{Width: 400, Height: 120}).(tea.WindowSizeMsg); got.Width != 400 || got.Height != 120 {
		t.Errorf("this process's terminal was clamped: %dx%d", got.Width, got.Height)
	}
	remote.filter(nil, tea.KeyPressMsg{Code: 'j', Text: "j"})
	remote.filter(nil, tea.WindowSizeMsg{Width: 80, Height: 24})
	if keys != 1 {
		t.Errorf("OnKey called %d times for one key press", keys)
	}
}
