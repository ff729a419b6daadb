// Package textfmt formats durations and lays text out in terminal cells the same way in
// the console and in the commands' plain output: widths are display widths (a CJK
// character takes two cells, a combining mark none), so that columns line up whatever
// the text.
package textfmt

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Age formats a duration like kubectl: 45s, 12m, 5h, 3d. With minutes set, anything under a
// minute is "<1m", so a screen that shows ages changes once a minute at most.
func Age(d time.Duration, minutes bool) string {
	switch {
	case d < time.Minute && minutes:
		return "<1m"
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// Thousands writes n with a comma between thousands: 23,000.
func Thousands(n int) string {
	digits := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return sign + b.String()
}

// ellipsis ends what Clip cut.
const ellipsis = "…"

// Width is how many terminal cells s takes.
func Width[S ~string](s S) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return ansi.StringWidth(string(s))
		}
	}
	return len(s) // printable ASCII: one cell a byte
}

// Clip cuts s to at most n cells, ending with an ellipsis when it cut, never in the middle
// of a character. It takes any string type, so a safetext.Text stays one.
func Clip[S ~string](s S, n int) S {
	if n <= 0 {
		return ""
	}
	if Width(s) <= n {
		return s
	}
	return S(ansi.Truncate(string(s), n, ellipsis))
}

// Pad fills s with blanks to n cells (a wider s is left as it is).
func Pad[S ~string](s S, n int) S {
	if w := Width(s); w < n {
		return s + S(strings.Repeat(" ", n-w))
	}
	return s
}

// Wrap fills lines of at most width cells with the words of text, at most maxLines of them
// (the last clipped with an ellipsis when text goes on); a word longer than a line is cut.
// A width below 8 gives the text clipped to one line.
func Wrap[S ~string](text S, width, maxLines int) []S {
	if width < 8 || maxLines < 1 {
		return []S{Clip(text, width)}
	}
	type wrapped struct {
		text S
		cut  bool // ends inside a word, which the next line goes on with
	}
	var lines []wrapped
	var line S
	lineWidth := 0
	for _, w := range strings.Fields(string(text)) {
		word, wordWidth := S(w), Width(w)
		switch {
		case lineWidth == 0:
			line, lineWidth = word, wordWidth
		case lineWidth+1+wordWidth <= width:
			line, lineWidth = line+" "+word, lineWidth+1+wordWidth
		default:
			lines = append(lines, wrapped{text: line})
			line, lineWidth = word, wordWidth
		}
		for lineWidth > width {
			head := S(ansi.Cut(string(line), 0, width))
			if head == "" { // cannot be (a character takes at most two cells): never loop
				head = line
			}
			lines = append(lines, wrapped{text: head, cut: true})
			line = line[len(head):]
			lineWidth = Width(line)
		}
	}
	if lineWidth > 0 {
		lines = append(lines, wrapped{text: line})
	} else if len(lines) > 0 {
		lines[len(lines)-1].cut = false
	}
	out := make([]S, 0, min(len(lines), maxLines))
	for i, l := range lines {
		if i == maxLines-1 && len(lines) > maxLines {
			var rest S
			for j, r := range lines[i:] {
				rest += r.text
				if !r.cut && j < len(lines)-i-1 {
					rest += " "
				}
			}
			return append(out, Clip(rest, width))
		}
		out = append(out, l.text)
	}
	return out
}

// Table writes rows of cells in columns gap cells apart, each column as wide as its widest
// cell, the last one not padded and no line ending in blanks. The cells are Texts: what a
// table prints has been made safe.
func Table(w io.Writer, rows [][]safetext.Text, gap int) error {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], Width(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		b.Reset()
		for i, cell := range row {
			if i == len(row)-1 {
				b.WriteString(string(cell))
				break
			}
			b.WriteString(string(Pad(cell, widths[i]+gap)))
		}
		if _, err := io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}
