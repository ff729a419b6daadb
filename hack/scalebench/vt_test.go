package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

func TestVTBasics(t *testing.T) {
	v := newVT(10, 4)
	_, _ = v.Write([]byte("hello\r\nworld\x1b[1;3HXY\x1b[2;2H\x1b[K\x1b[4;1Hab\x1b[3bc"))
	want := "heXYo\nw\n\nabbbbc"
	if got := v.Screen(); got != want {
		t.Errorf("screen = %q, want %q", got, want)
	}
	// Delete a line inside a scroll region, insert characters, erase characters.
	v = newVT(6, 4)
	_, _ = v.Write([]byte("111\r\n222\r\n333\r\n444\x1b[2;3r\x1b[2;1H\x1b[M\x1b[r\x1b[1;1H\x1b[2@\x1b[4;2H\x1b[2X"))
	want = "  111\n333\n\n4"
	if got := v.Screen(); got != want {
		t.Errorf("screen = %q, want %q", got, want)
	}
}

// outputBuffer is the program's terminal output, safe to read while it writes.
type outputBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *outputBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

type frameModel struct{ content string }

type frameMsg string

func (m frameModel) Init() tea.Cmd { return nil }

func (m frameModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case frameMsg:
		m.content = string(msg)
	case tea.KeyPressMsg:
		return m, tea.Quit
	}
	return m, nil
}

func (m frameModel) View() tea.View {
	v := tea.NewView(m.content)
	v.AltScreen = true
	return v
}

// TestVTFollowsBubbletea renders frames like the console's (rows that change in place, move
// up and down, appear and go) with bubbletea's own renderer, and checks that the emulator
// fed its output shows each frame.
func TestVTFollowsBubbletea(t *testing.T) {
	const width, height = 80, 24
	out := &outputBuffer{}
	p := tea.NewProgram(frameModel{}, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(width, height),
		tea.WithEnvironment([]string{"TERM=xterm-256color"}), tea.WithoutSignals())
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	defer func() {
		p.Quit()
		<-done
	}()

	rng := rand.New(rand.NewPCG(1, 2))
	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%d/api-%d-%02d", i%5, i%5, i)
	}
	ready := make([]int, len(names))
	for f := 0; f < 60; f++ {
		// Some rows change their counts, some move (the list re-sorts), the header's count moves.
		for i := range ready {
			if rng.IntN(4) == 0 {
				ready[i] = rng.IntN(60)
			}
		}
		if f%3 == 0 {
			i, j := rng.IntN(len(names)), rng.IntN(len(names))
			names[i], names[j] = names[j], names[i]
		}
		if f%7 == 0 {
			names = append(names[1:], names[0]) // everything scrolls up a row
		}
		var b strings.Builder
		fmt.Fprintf(&b, "kubectl pyroll · sandbox  %d Progressing  %d Complete\n\n", f, 200-f)
		b.WriteString("NAME                PHASE          PODS\n")
		rows := height - 4 - f%4 // the list's length changes too
		for i := 0; i < rows; i++ {
			bar := strings.Repeat("█", 7-ready[i]%3) + strings.Repeat("░", ready[i]%3)
			if ready[i]%11 == 0 {
				bar = "名前" + bar[:len(bar)-6] // a wide character or two
			}
			fmt.Fprintf(&b, "%-19s ✓ Complete     %2d/50 %s\n", names[i], ready[i], bar)
		}
		want := strings.TrimRight(b.String(), "\n")
		p.Send(frameMsg(want))
		var got string
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			v := newVT(width, height)
			v.onlcr = true // bubbletea writes to a non-tty as to a tty in cooked mode
			_, _ = v.Write(out.bytes())
			if got = trimScreen(v.Screen()); got == trimScreen(want) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got != trimScreen(want) {
			t.Fatalf("frame %d: the emulator shows\n%s\nwant\n%s\noutput so far: %q", f, got, want, out.bytes())
		}
	}
}
