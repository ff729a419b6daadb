package pytrace

import (
	"strings"
	"testing"
	"time"
)

const tenMiB = 10 << 20

// hugeLogs are 10 MiB inputs shaped to hit each loop's worst case; a quadratic step would take
// hours on them, which the deadline turns into a failure instead of a hung test.
func hugeLogs() map[string]string {
	repeat := func(s string) string { return strings.Repeat(s, tenMiB/len(s)+1) }
	frames := repeat("  File \"a.py\", line 1, in f\n    f()\n")
	return map[string]string{
		"newlines":                "\n" + repeat("\n"),
		"one long line":           repeat("x"),
		"headers":                 repeat(tracebackHeader + "\n"),
		"headers with prefixes":   repeat("[ERROR] " + tracebackHeader + "\n  File \"a.py\", line 1\n"),
		"escaped headers":         repeat(tracebackHeader + `\n`),
		"escaped headers, quoted": repeat(tracebackHeader + `\n"`),
		"JSON records":            repeat(`{"exception":"Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nValueError: x"}` + "\n"),
		"deep stack":              tracebackHeader + "\n" + frames + "RecursionError: too deep\n",
		"tail-cut stack":          frames + "ValueError: x\n",
		"group box":               "  + Exception Group Traceback (most recent call last):\n" + repeat("  | ExceptionGroup: g\n"),
		"separators":              "Traceback (most recent call last):\nValueError: x\n" + repeat("\n"+separators[0]+"\n"+tracebackHeader+"\n"),
		"escape sequences":        repeat("\x1b[31m\x1b]0;"),
		"invalid UTF-8":           repeat("\xff\xc2"),
	}
}

func TestFindHugeLogsInLinearTime(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("builds 10 MiB logs")
	}
	for name, log := range hugeLogs() {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			Find(log)
			Hint(log)
			// Generous for -race on a slow machine; linear code needs well under a second.
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

func BenchmarkFind(b *testing.B) {
	log := hugeLogs()["JSON records"]
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		Find(log)
	}
}
