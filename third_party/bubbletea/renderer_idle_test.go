package tea

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// kubectl-pyroll patch (PATCHED.md): the renderer's ticker stops once nothing is left to
// draw, and a render starts it again.

type idleModel struct{ text string }

type setText string

func (m idleModel) Init() Cmd { return nil }

func (m idleModel) Update(msg Msg) (Model, Cmd) {
	if t, ok := msg.(setText); ok {
		m.text = string(t)
	}
	return m, nil
}

func (m idleModel) View() View { return NewView(m.text) }

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRendererTickerStopsWhenIdleAndWakesOnRender(t *testing.T) {
	out := &lockedBuffer{}
	p := NewProgram(idleModel{text: "first frame"}, WithInput(nil), WithOutput(out), WithWindowSize(80, 24))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()

	waitFor(t, "the first frame drawn, then the ticker stopped", func() bool {
		return strings.Contains(out.String(), "first frame") && !p.rendererTicking.Load()
	})
	p.Send(setText("second frame"))
	waitFor(t, "the second frame drawn after the idle ticker woke", func() bool {
		return strings.Contains(out.String(), "second frame")
	})
	waitFor(t, "the ticker stopped again", func() bool { return !p.rendererTicking.Load() })

	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
