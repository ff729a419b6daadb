package textfmt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

func TestWidth(t *testing.T) {
	tests := map[string]int{
		"":                   0,
		"orders-api":         10,
		"日本":                 4,
		"e\u0301":            1,
		"😀":                  2,
		`\x1b[5m`:            7,
		"a" + "\u0301\u0302": 1,
	}
	for s, want := range tests {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abcdef", 4, "abc…"},
		{"abcd", 4, "abcd"},
		{"abcd", 0, ""},
		{"日本語です", 5, "日本…"}, // never half a wide character
		{"e\u0301e\u0301e\u0301", 2, "e\u0301…"},
		{"e\u0301e\u0301", 2, "e\u0301e\u0301"}, // two cells, however many runes
	}
	for _, tt := range tests {
		if got := Clip(tt.in, tt.n); got != tt.want || Width(got) > max(tt.n, 0) {
			t.Errorf("Clip(%q, %d) = %q (%d cells), want %q", tt.in, tt.n, got, Width(got), tt.want)
		}
	}
	if got := Clip(safetext.Text("abcdef"), 3); got != safetext.Text("ab…") {
		t.Errorf("Clip of a Text = %q", got)
	}
}

func TestPad(t *testing.T) {
	if got := Pad("日本", 6); got != "日本  " {
		t.Errorf("Pad = %q", got)
	}
	if got := Pad("abcdef", 3); got != "abcdef" {
		t.Errorf("Pad of a wider text = %q", got)
	}
}

func TestWrap(t *testing.T) {
	text := "1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'"
	lines := Wrap(text, 40, 3)
	if strings.Join(lines, " ") != text {
		t.Errorf("wrapping lost text: %q", lines)
	}
	for _, l := range lines {
		if Width(l) > 40 {
			t.Errorf("line %q longer than 40", l)
		}
	}
	clipped := Wrap(strings.Repeat("word ", 40), 20, 2)
	if len(clipped) != 2 || !strings.HasSuffix(clipped[1], "…") {
		t.Errorf("overflow not clipped to 2 lines with an ellipsis: %q", clipped)
	}
	if got := Wrap(strings.Repeat("x", 50), 20, 5); len(got) != 3 || got[0] != strings.Repeat("x", 20) || got[2] != strings.Repeat("x", 10) {
		t.Errorf("long word not cut: %q", got)
	}
	if got := Wrap(strings.Repeat("x", 50), 20, 2); len(got) != 2 || got[1] != strings.Repeat("x", 19)+"…" {
		t.Errorf("a cut word clipped on the last line: %q", got)
	}
	if got := Wrap(strings.Repeat("日", 15), 9, 5); len(got) != 4 || got[0] != strings.Repeat("日", 4) {
		t.Errorf("wide characters cut by cells: %q", got)
	}
	if got := Wrap("", 20, 3); len(got) != 0 {
		t.Errorf("Wrap of nothing = %q", got)
	}
	if got := Wrap("abcdefghij", 5, 3); len(got) != 1 || got[0] != "abcd…" {
		t.Errorf("narrow: %q", got)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	rows := [][]safetext.Text{{"REV", "IMAGE"}, {"12", "日本:1"}, {"3", ""}}
	if err := Table(&b, rows, 2); err != nil {
		t.Fatal(err)
	}
	want := "REV  IMAGE\n12   日本:1\n3\n"
	if b.String() != want {
		t.Errorf("Table =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	wide := [][]safetext.Text{{"日本", "x"}, {"ab", "y"}}
	_ = Table(&b, wide, 1)
	if want := "日本 x\nab   y\n"; b.String() != want {
		t.Errorf("wide cells: %q, want %q", b.String(), want)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 23000: "23,000", 1234567: "1,234,567", -50000: "-50,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
