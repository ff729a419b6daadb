package textfmt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// The layout holds whatever the text: nothing wider than asked, nothing unsafe made of
// safe text, no word lost unless clipped.
func FuzzLayout(f *testing.F) {
	for _, s := range []string{
		"1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'",
		"日本語のテキスト と 絵文字 😀👍🏽",
		"e\u0301\u0302\u0303 zalgo" + strings.Repeat("\u0301", 30),
		"ghcr.io/acme/evil:2.0\x1b]52;c;ZWNobyBwd25lZA==\x07",
		"\u202eevil\u202c \xff \t tab",
		strings.Repeat("x", 300),
		"",
	} {
		f.Add(s, 20, 3)
		f.Add(s, 7, 1)
	}
	f.Fuzz(func(t *testing.T, raw string, width, maxLines int) {
		width, maxLines = width%200, maxLines%10
		text := safetext.Line(raw)
		clipped := Clip(text, width)
		if Width(clipped) > max(width, 0) {
			t.Fatalf("Clip(%q, %d) = %q, %d cells", text, width, clipped, Width(clipped))
		}
		if _, _, bad := safetext.Unsafe(string(clipped)); bad {
			t.Fatalf("Clip(%q) = %q is not safe", text, clipped)
		}
		if padded := Pad(text, width); Width(padded) < width || !strings.HasPrefix(string(padded), string(text)) {
			t.Fatalf("Pad(%q, %d) = %q", text, width, padded)
		}
		lines := Wrap(text, width, maxLines)
		if len(lines) > max(maxLines, 1) {
			t.Fatalf("Wrap(%q, %d, %d) gave %d lines", text, width, maxLines, len(lines))
		}
		for _, l := range lines {
			if Width(l) > max(width, 0) {
				t.Fatalf("Wrap(%q, %d): line %q has %d cells", text, width, l, Width(l))
			}
			if _, _, bad := safetext.Unsafe(string(l)); bad || strings.Contains(string(l), "\n") {
				t.Fatalf("Wrap(%q): line %q is not safe", text, l)
			}
		}
		if width >= 8 && maxLines > 0 && !strings.HasSuffix(string(lastOf(lines)), "…") {
			if got, want := strings.Join(strings.Fields(string(safetext.Join(lines, ""))), ""), strings.Join(strings.Fields(string(text)), ""); got != want {
				t.Fatalf("Wrap(%q, %d, %d) = %q lost text", text, width, maxLines, lines)
			}
		}
		var b bytes.Buffer
		rows := [][]safetext.Text{{"NAME", "IMAGE"}, {text, "x"}, {"y", text}}
		if err := Table(&b, rows, 2); err != nil {
			t.Fatal(err)
		}
		if _, _, bad := safetext.Unsafe(b.String()); bad {
			t.Fatalf("Table of %q is not safe: %q", text, b.String())
		}
		// The second column starts at the same cell on every line.
		col := max(Width("NAME"), Width(text)) + 2
		var want strings.Builder
		for _, row := range rows {
			want.WriteString(strings.TrimRight(string(Pad(row[0], col)+row[1]), " ") + "\n")
		}
		if b.String() != want.String() {
			t.Fatalf("Table of %q =\n%s\nwant\n%s", text, b.String(), want.String())
		}
	})
}

func lastOf[S ~string](lines []S) S {
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}
