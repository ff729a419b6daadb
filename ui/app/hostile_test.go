package app

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/revisions"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/hostile"
	"github.com/pyroll/kubectl-pyroll/ui/footer"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// sequence matches what a frame may hold besides text: the renderer's CSI sequences (SGR
// colours and attributes). Anything else that starts with ESC is not the console's.
var sequence = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// hostileFrames are the console's frames over the hostile (or clean) objects: the list and
// each rollout's detail, scrolled to its end, the diff and logs pages, the help, at several
// sizes, with metrics and a footer that repeats what the API server said.
func hostileFrames(t *testing.T, v hostile.Variant) map[string]string {
	t.Helper()
	framesOnce[v].Do(func() { framesOf[v] = drawFrames(t, v) })
	if framesOf[v] == nil {
		t.Fatal("the frames could not be drawn")
	}
	return framesOf[v]
}

var (
	framesOnce = map[hostile.Variant]*sync.Once{hostile.Hostile: {}, hostile.Clean: {}}
	framesOf   = map[hostile.Variant]map[string]string{}
)

func drawFrames(t *testing.T, v hostile.Variant) map[string]string {
	objs := hostile.Objects(v)
	rollouts := rollout.Build(objs, hostile.Now)
	report := hostile.Report(rollouts, v)
	h, err := revisions.FromObjects(hostile.Only(objs, hostile.Deployment), hostile.Now)
	if err != nil {
		t.Error(err)
		return nil
	}
	diff, err := h.Diff(1, 2)
	if err != nil {
		t.Error(err)
		return nil
	}
	frames := map[string]string{}
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}, {200, 50}, {40, 12}, {12, 4}} {
		m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "ctx", Now: hostile.Now})
		m.opts.Metrics = fakeMetrics{report}
		m = send(m, tea.WindowSizeMsg{Width: size.w, Height: size.h},
			SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: hostile.Now, Conn: rollout.Connection{State: rollout.ConnLive}}))
		m = send(m, m.pollMetrics()())
		at := func(what string) string { return fmt.Sprintf("%dx%d %s", size.w, size.h, what) }
		frames[at("list")] = m.View().Content
		for i := range rollouts {
			d := send(m, press("enter"))
			frames[at(fmt.Sprintf("detail %d", i))] = d.View().Content
			for range 20 {
				d = send(d, tea.KeyPressMsg{Code: tea.KeyPgDown})
			}
			frames[at(fmt.Sprintf("detail %d, its end", i))] = d.View().Content
			m = send(m, press("down"))
		}
		page := send(m, diffMsg{rollout: hostile.Deployment, view: DiffView{From: 1, To: 2, Diff: diff}})
		frames[at("diff")] = page.View().Content
		page = send(m, logsMsg{view: LogView{Pod: rollouts[0].Revisions[0].Pods[0].Name, Previous: true, Text: hostile.Log(v)}})
		frames[at("logs")] = page.View().Content
		for range 3 {
			page = send(page, tea.KeyPressMsg{Code: tea.KeyPgUp})
		}
		frames[at("logs, scrolled up")] = page.View().Content
		m.footer.SetStatus(footer.Status{Text: safetext.Line(hostile.Values[v2i(v)] + " " + hostile.OSC52), Bad: true})
		frames[at("footer")] = m.View().Content
		frames[at("help")] = send(m, press("?")).View().Content
	}
	return frames
}

func v2i(v hostile.Variant) int {
	if v == hostile.Hostile {
		return 0
	}
	return 9 // ""
}

// The console over hostile objects draws their text and nothing else: once the renderer's
// own colour sequences are taken out, a frame holds no control character but newlines, no
// escape, no bidi or format character; it uses only the sequences it uses over clean
// objects (no blink, no title, no clipboard); and it fits the window.
func TestHostileObjectsInTheConsole(t *testing.T) {
	clean := hostileFrames(t, hostile.Clean)
	own := map[string]bool{}
	for _, f := range clean {
		for _, s := range sequence.FindAllString(f, -1) {
			own[s] = true
		}
	}
	for name, frame := range hostileFrames(t, hostile.Hostile) {
		text := sequence.ReplaceAllString(frame, "")
		if what, at, bad := safetext.Unsafe(text); bad {
			t.Errorf("%s: %s at byte %d: %q", name, what, at, text[max(0, at-60):min(len(text), at+40)])
		}
		var foreign []string
		for _, s := range sequence.FindAllString(frame, -1) {
			if !own[s] {
				foreign = append(foreign, fmt.Sprintf("%q", s))
			}
		}
		if len(foreign) > 0 {
			sort.Strings(foreign)
			t.Errorf("%s: sequences the console never draws over clean objects: %s", name, strings.Join(foreign, " "))
		}
		var w, h int
		fmt.Sscanf(name, "%dx%d", &w, &h)
		lines := strings.Split(frame, "\n")
		if len(lines) > h {
			t.Errorf("%s: %d lines", name, len(lines))
		}
		for _, l := range lines {
			if lw := ansi.StringWidth(l); lw > w {
				t.Errorf("%s: a line of %d cells: %q", name, lw, ansi.Strip(l))
			}
		}
	}
}

// What the escapes hid is on screen, escaped: the canary's image, the stable's blink.
func TestHostileConsoleShowsTheEscapedImages(t *testing.T) {
	frames := hostileFrames(t, hostile.Hostile)
	detail := ansi.Strip(frames["200x50 detail 0"])
	for _, want := range []string{`ghcr.io/acme/evil:2.0\x1b]52;c;ZWNobyBwd25lZA==\x07`, `ghcr.io/acme/evil:1.9\x1b[5m`} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail lacks %s:\n%s", want, detail)
		}
	}
	logs := ansi.Strip(frames["200x50 logs"])
	if !strings.Contains(logs, "ModuleNotFoundError: No module named 'orjson'") || !strings.Contains(logs, `INFO \xff\xfe\u202egnp.exe`) {
		t.Errorf("the log page lost the words of its lines:\n%s", logs)
	}
}

// A frame over hostile objects costs about what one over clean objects does.
func TestHostileConsoleFramesCostLikeCleanOnes(t *testing.T) {
	cost := func(v hostile.Variant) (float64, uint64) {
		objs := hostile.Objects(v)
		rollouts := rollout.Build(objs, hostile.Now)
		m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "ctx", Now: hostile.Now})
		m.opts.Metrics = fakeMetrics{hostile.Report(rollouts, v)}
		m = send(m, tea.WindowSizeMsg{Width: 120, Height: 40}, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: hostile.Now}))
		m = send(m, m.pollMetrics()(), press("enter"))
		return testing.AllocsPerRun(10, func() { _ = m.View() }), hostile.BytesAllocated(func() { _ = m.View() })
	}
	cleanAllocs, cleanBytes := cost(hostile.Clean)
	badAllocs, badBytes := cost(hostile.Hostile)
	if badAllocs > 2*cleanAllocs+100 || badBytes > 2*cleanBytes+64<<10 {
		t.Errorf("a detail frame over hostile objects: %.0f allocations, %d bytes; over clean ones %.0f, %d", badAllocs, badBytes, cleanAllocs, cleanBytes)
	}
}
