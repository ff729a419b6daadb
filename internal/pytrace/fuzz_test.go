package pytrace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"unicode/utf8"
)

func FuzzFind(f *testing.F) {
	files, err := filepath.Glob("testdata/*.log")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		f.Add(strings.ReplaceAll(string(b), "\n", "\r\n"))
	}
	f.Add("\x1b[31mTraceback (most recent call last):\n  File \"a\", line 1\n\x1b]0;x\x07ValueError: \xff")
	f.Add(`{"e":"  + Exception Group Traceback (most recent call last):\n  | ExceptionGroup: g\u0000\ud800"}`)
	f.Fuzz(func(t *testing.T, log string) {
		got, ok := Find(log)
		if !ok {
			if got.Exception != "" || got.Lines != nil || got.Start != 0 || got.End != 0 {
				t.Fatalf("not found, yet %+v", got)
			}
		}
		lines := strings.Count(log, "\n") + 1
		if got.Start < 0 || got.Start > got.End || got.End > lines {
			t.Fatalf("Start, End = %d, %d in a log of %d lines", got.Start, got.End, lines)
		}
		if ok && got.Start == got.End {
			t.Fatalf("found an empty block at %d", got.Start)
		}
		checkClean(t, got)
		if hint := Hint(log); !isPrintable(hint) || utf8.RuneCountInString(string(hint)) > maxExceptionLen {
			t.Fatalf("Hint = %q", hint)
		}
	})
}

// checkClean asserts what the console relies on: text it can print as it is.
func checkClean(t *testing.T, got Traceback) {
	t.Helper()
	if !isPrintable(got.Exception) {
		t.Fatalf("Exception %q is not printable", got.Exception)
	}
	if n := utf8.RuneCountInString(string(got.Exception)); n > maxExceptionLen {
		t.Fatalf("Exception has %d runes", n)
	}
	if len(got.Lines) > maxLines {
		t.Fatalf("%d lines", len(got.Lines))
	}
	for _, l := range got.Lines {
		if !isPrintable(l) {
			t.Fatalf("line %q is not printable", l)
		}
	}
}

func isPrintable(s safetext.Text) bool {
	_, _, bad := safetext.Unsafe(string(s))
	return !bad && !strings.Contains(string(s), "\n")
}
