package main

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// vt is a small terminal emulator: enough of xterm for what bubbletea's renderer writes
// (cursor moves, erases, insert/delete of lines and characters, scroll regions, repeat),
// so that the churn phase can tell from the bytes tmux receives, as they arrive, when a row
// of the console shows a change. Colours and other attributes are ignored: the cells hold
// text only. It is checked against tmux's own screen (capture-pane) after each churn run.
type vt struct {
	w, h        int
	cells       [][]rune // rune 0: the right half of a wide character
	x, y        int
	wrapNext    bool // the last column was written: the next print wraps first
	autowrap    bool
	onlcr       bool // a line feed returns the carriage too (a tty in cooked mode)
	insert      bool // IRM
	top, bottom int  // scroll region, inclusive
	savedX      int
	savedY      int
	last        rune // for REP
	parser      *ansi.Parser
}

func newVT(w, h int) *vt {
	t := &vt{w: w, h: h, autowrap: true}
	t.reset()
	t.parser = ansi.NewParser()
	t.parser.SetHandler(ansi.Handler{
		Print:     t.print,
		Execute:   t.execute,
		HandleCsi: t.csi,
		HandleEsc: t.esc,
	})
	return t
}

func (t *vt) reset() {
	t.cells = make([][]rune, t.h)
	for i := range t.cells {
		t.cells[i] = blankLine(t.w)
	}
	t.x, t.y, t.wrapNext, t.autowrap, t.insert = 0, 0, false, true, false
	t.top, t.bottom = 0, t.h-1
}

func blankLine(w int) []rune {
	l := make([]rune, w)
	for i := range l {
		l[i] = ' '
	}
	return l
}

// Write feeds the terminal output.
func (t *vt) Write(p []byte) (int, error) {
	for _, b := range p {
		t.parser.Advance(b)
	}
	return len(p), nil
}

// Line is row y's text, without trailing blanks.
func (t *vt) Line(y int) string {
	var b strings.Builder
	for _, r := range t.cells[y] {
		if r != 0 {
			b.WriteRune(r)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// Screen is every row's text, one per line, as `tmux capture-pane -p` prints it.
func (t *vt) Screen() string {
	lines := make([]string, t.h)
	for y := range lines {
		lines[y] = t.Line(y)
	}
	return strings.Join(lines, "\n")
}

func (t *vt) clampX(x int) int { return max(0, min(x, t.w-1)) }
func (t *vt) clampY(y int) int { return max(0, min(y, t.h-1)) }

func (t *vt) moveTo(x, y int) {
	t.x, t.y, t.wrapNext = t.clampX(x), t.clampY(y), false
}

func (t *vt) print(r rune) {
	width := ansi.StringWidth(string(r))
	if width == 0 {
		return // a combining mark or zero-width joiner: the cell keeps its base
	}
	if t.wrapNext && t.autowrap {
		t.x, t.wrapNext = 0, false
		t.lineFeed()
	}
	if t.x+width > t.w {
		if !t.autowrap {
			t.x = t.w - width
		} else {
			t.x = 0
			t.lineFeed()
		}
	}
	line := t.cells[t.y]
	if t.insert {
		copy(line[t.x+width:], line[t.x:t.w-width])
	}
	line[t.x] = r
	if width == 2 {
		line[t.x+1] = 0
	}
	fixWide(line)
	t.last = r
	if t.x+width >= t.w {
		t.x = t.w - 1
		t.wrapNext = true
	} else {
		t.x += width
	}
}

// fixWide blanks the halves of wide characters that lost their other half.
func fixWide(line []rune) {
	for x, r := range line {
		switch {
		case r == 0 && (x == 0 || line[x-1] == 0 || ansi.StringWidth(string(line[x-1])) != 2):
			line[x] = ' '
		case r > 0x7f && ansi.StringWidth(string(r)) == 2 && (x+1 == len(line) || line[x+1] != 0):
			line[x] = ' '
		}
	}
}

func (t *vt) execute(b byte) {
	switch b {
	case '\r':
		t.x, t.wrapNext = 0, false
	case '\n', '\v', '\f':
		t.wrapNext = false
		if t.onlcr {
			t.x = 0
		}
		t.lineFeed()
	case '\b':
		if t.x > 0 {
			t.x--
		}
		t.wrapNext = false
	case '\t':
		t.x, t.wrapNext = t.clampX((t.x/8+1)*8), false
	}
}

// lineFeed moves down a row, scrolling the region when at its bottom.
func (t *vt) lineFeed() {
	if t.y == t.bottom {
		t.scrollUp(1)
	} else if t.y < t.h-1 {
		t.y++
	}
}

func (t *vt) scrollUp(n int) {
	for ; n > 0; n-- {
		copy(t.cells[t.top:t.bottom], t.cells[t.top+1:t.bottom+1])
		t.cells[t.bottom] = blankLine(t.w)
	}
}

func (t *vt) scrollDown(n int) {
	for ; n > 0; n-- {
		copy(t.cells[t.top+1:t.bottom+1], t.cells[t.top:t.bottom])
		t.cells[t.top] = blankLine(t.w)
	}
}

func (t *vt) eraseCells(y, from, to int) { // [from, to)
	line := t.cells[y]
	for x := max(0, from); x < min(to, t.w); x++ {
		line[x] = ' '
	}
	fixWide(line)
}

func (t *vt) csi(cmd ansi.Cmd, params ansi.Params) {
	param := func(i, def int) int {
		v, _, _ := params.Param(i, def)
		return v
	}
	count := func() int { return max(1, param(0, 1)) }
	switch cmd.Prefix() {
	case '?':
		if cmd.Final() == 'h' || cmd.Final() == 'l' {
			set := cmd.Final() == 'h'
			for i := range params {
				switch param(i, 0) {
				case 7:
					t.autowrap = set
				case 47, 1047, 1049:
					t.reset() // the alternate screen starts blank; leaving it, the console is gone
				}
			}
		}
		return
	case 0:
	default:
		return
	}
	if cmd.Intermediate() != 0 {
		return
	}
	switch cmd.Final() {
	case 'A':
		floor := 0
		if t.y >= t.top {
			floor = t.top
		}
		t.moveTo(t.x, max(t.y-count(), floor))
	case 'B', 'e':
		ceiling := t.h - 1
		if t.y <= t.bottom {
			ceiling = t.bottom
		}
		t.moveTo(t.x, min(t.y+count(), ceiling))
	case 'C', 'a':
		t.moveTo(t.x+count(), t.y)
	case 'D':
		t.moveTo(t.x-count(), t.y)
	case 'E':
		t.moveTo(0, t.y+count())
	case 'F':
		t.moveTo(0, t.y-count())
	case 'G', '`':
		t.moveTo(count()-1, t.y)
	case 'd':
		t.moveTo(t.x, count()-1)
	case 'H', 'f':
		t.moveTo(max(1, param(1, 1))-1, max(1, param(0, 1))-1)
	case 'J':
		switch param(0, 0) {
		case 0:
			t.eraseCells(t.y, t.x, t.w)
			for y := t.y + 1; y < t.h; y++ {
				t.cells[y] = blankLine(t.w)
			}
		case 1:
			t.eraseCells(t.y, 0, t.x+1)
			for y := 0; y < t.y; y++ {
				t.cells[y] = blankLine(t.w)
			}
		case 2, 3:
			for y := range t.cells {
				t.cells[y] = blankLine(t.w)
			}
		}
		t.wrapNext = false
	case 'K':
		switch param(0, 0) {
		case 0:
			t.eraseCells(t.y, t.x, t.w)
		case 1:
			t.eraseCells(t.y, 0, t.x+1)
		case 2:
			t.eraseCells(t.y, 0, t.w)
		}
		t.wrapNext = false
	case 'X':
		t.eraseCells(t.y, t.x, t.x+count())
		t.wrapNext = false
	case '@':
		n := min(count(), t.w-t.x)
		line := t.cells[t.y]
		copy(line[t.x+n:], line[t.x:t.w-n])
		t.eraseCells(t.y, t.x, t.x+n) // also mends a wide character cut at the right edge
		t.wrapNext = false
	case 'P':
		n := min(count(), t.w-t.x)
		line := t.cells[t.y]
		copy(line[t.x:], line[t.x+n:])
		t.eraseCells(t.y, t.w-n, t.w)
		t.wrapNext = false
	case 'L', 'M':
		if t.y < t.top || t.y > t.bottom {
			return
		}
		top := t.top
		t.top = t.y
		if cmd.Final() == 'L' {
			t.scrollDown(min(count(), t.bottom-t.y+1))
		} else {
			t.scrollUp(min(count(), t.bottom-t.y+1))
		}
		t.top = top
		t.x, t.wrapNext = 0, false
	case 'S':
		t.scrollUp(min(count(), t.bottom-t.top+1))
	case 'T':
		t.scrollDown(min(count(), t.bottom-t.top+1))
	case 'b':
		if t.last != 0 {
			for n := count(); n > 0; n-- {
				t.print(t.last)
			}
		}
	case 'r':
		top, bottom := max(1, param(0, 1))-1, param(1, t.h)
		if bottom <= 0 || bottom > t.h {
			bottom = t.h
		}
		if top < bottom-1 {
			t.top, t.bottom = top, bottom-1
			t.moveTo(0, 0)
		}
	case 'h', 'l':
		for i := range params {
			if param(i, 0) == 4 {
				t.insert = cmd.Final() == 'h'
			}
		}
	case 's':
		t.savedX, t.savedY = t.x, t.y
	case 'u':
		t.moveTo(t.savedX, t.savedY)
	}
}

func (t *vt) esc(cmd ansi.Cmd) {
	if cmd.Intermediate() != 0 {
		return // charset designations and the like
	}
	switch cmd.Final() {
	case '7':
		t.savedX, t.savedY = t.x, t.y
	case '8':
		t.moveTo(t.savedX, t.savedY)
	case 'D':
		t.lineFeed()
	case 'E':
		t.x = 0
		t.lineFeed()
	case 'M':
		if t.y == t.top {
			t.scrollDown(1)
		} else if t.y > 0 {
			t.y--
		}
		t.wrapNext = false
	case 'c':
		t.reset()
	}
}
