package pytrace

import (
	"strings"
	"testing"
)

func TestFindWithKubectlTimestamps(t *testing.T) {
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSuffix(readFixture(t, "gunicorn_worker_failed_to_boot.log"), "\n"), "\n") {
		if i%2 == 0 {
			b.WriteString("2026-11-23T10:00:00.123456789Z ")
		} else {
			b.WriteString("2026-11-23T10:00:00+01:00 ")
		}
		b.WriteString(l + "\n")
	}
	b.WriteString("2026-11-23T10:00:01Z\n")
	got, ok := Find(b.String())
	if !ok || got.Exception != "ModuleNotFoundError: No module named 'orjson'" || got.Start != 5 || got.End != 37 {
		t.Fatalf("Find = %q, %d, %d, %v", got.Exception, got.Start, got.End, ok)
	}
	if got.Lines[0] != tracebackHeader || got.Lines[1] != `  File "/usr/lib/python3/dist-packages/gunicorn/arbiter.py", line 589, in spawn_worker` {
		t.Errorf("timestamps left in Lines: %q", got.Lines[:2])
	}
}

func TestStripKubeTimestamp(t *testing.T) {
	tests := map[string]string{
		"2026-11-23T10:00:00Z Traceback":           "Traceback",
		"2026-11-23T10:00:00.5Z   File":            "  File",
		"2026-11-23T10:00:00-07:00 x":              "x",
		"2026-11-23T10:00:00Z":                     "",
		"2026-11-23 10:00:00,123 ERROR Traceback":  "2026-11-23 10:00:00,123 ERROR Traceback",
		"2026-11-23T10:00:00+0100 x":               "2026-11-23T10:00:00+0100 x",
		"2026-11-23T10:00:00Zx":                    "2026-11-23T10:00:00Zx",
		"2026-11-23T10:00:00.":                     "2026-11-23T10:00:00.",
		"2026-11-23T10:00:00+01:0":                 "2026-11-23T10:00:00+01:0",
		"[2026-11-23 10:00:00 +0000] [7] [ERROR] ": "[2026-11-23 10:00:00 +0000] [7] [ERROR] ",
	}
	for in, want := range tests {
		if got := stripKubeTimestamp(in); got != want {
			t.Errorf("stripKubeTimestamp(%q) = %q, want %q", in, got, want)
		}
	}
}
