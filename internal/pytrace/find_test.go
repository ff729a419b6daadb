package pytrace

import (
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fixtures are real output from testdata/generate.sh; a rerun changes gunicorn's pids and
// timestamps but none of what is asserted here.
func TestFindInGeneratedLogs(t *testing.T) {
	tests := []struct {
		file       string
		exception  safetext.Text
		start, end int // checked when end > 0
		firstLine  safetext.Text
	}{
		{file: "module_not_found.log", exception: "ModuleNotFoundError: No module named 'orjson'", start: 0, end: 4, firstLine: tracebackHeader},
		{file: "chained_during_handling.log", exception: "RuntimeError: config has no port", start: 0, end: 14, firstLine: tracebackHeader},
		{file: "chained_direct_cause.log", exception: "ConnectionError: cannot parse DATABASE_URL", start: 0, end: 16, firstLine: tracebackHeader},
		{file: "syntax_error.log", exception: "SyntaxError: '(' was never closed (syntax_error.py, line 5)", start: 0, end: 4, firstLine: `  File "/app/syntax_error.py", line 5`},
		{file: "syntax_error_import.log", exception: "SyntaxError: invalid syntax (broken_settings.py, line 2)", start: 0, end: 7, firstLine: tracebackHeader},
		{file: "indentation_error.log", exception: "IndentationError: unexpected indent (indentation_error.py, line 3)", start: 0, end: 3},
		{file: "exception_group.log", exception: "ExceptionGroup: invalid config (2 sub-exceptions)", start: 0, end: 27, firstLine: tracebackHeader},
		{file: "json_logging.log", exception: "KeyError: 'timeout'", start: 2, end: 3, firstLine: tracebackHeader},
		{file: "logging_prefix.log", exception: "ZeroDivisionError: division by zero", start: 1, end: 6, firstLine: tracebackHeader},
		{file: "gunicorn_worker_failed_to_boot.log", exception: "ModuleNotFoundError: No module named 'orjson'", start: 5, end: 37, firstLine: tracebackHeader},
	}
	files, err := filepath.Glob("testdata/*.log")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("testdata has %d logs, the table %d: every generated log needs a row", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			log := readFixture(t, tt.file)
			got, ok := Find(log)
			if !ok {
				t.Fatal("no traceback found")
			}
			if got.Exception != tt.exception {
				t.Errorf("Exception = %q, want %q", got.Exception, tt.exception)
			}
			if tt.end > 0 && (got.Start != tt.start || got.End != tt.end) {
				t.Errorf("Start, End = %d, %d, want %d, %d", got.Start, got.End, tt.start, tt.end)
			}
			if tt.firstLine != "" && (len(got.Lines) == 0 || got.Lines[0] != tt.firstLine) {
				t.Errorf("first line = %q, want %q", first(got.Lines), tt.firstLine)
			}
			if Hint(log) != tt.exception {
				t.Errorf("Hint = %q, want the exception", Hint(log))
			}
		})
	}
}

func TestFindKeepsTheWholeChain(t *testing.T) {
	got, _ := Find(readFixture(t, "chained_direct_cause.log"))
	want := strings.Split(strings.TrimSuffix(readFixture(t, "chained_direct_cause.log"), "\n"), "\n")
	if joinLines(got.Lines) != strings.Join(want, "\n") {
		t.Errorf("Lines =\n%s\nwant the whole log:\n%s", joinLines(got.Lines), strings.Join(want, "\n"))
	}
}

func TestFindDecodesJSONTraceback(t *testing.T) {
	got, _ := Find(readFixture(t, "json_logging.log"))
	want := []string{
		tracebackHeader,
		`  File "/app/json_logging.py", line 24, in <module>`,
		`    {"retries": 3}["timeout"]`,
		`    ~~~~~~~~~~~~~~^^^^^^^^^^^`,
		`KeyError: 'timeout'`,
	}
	if joinLines(got.Lines) != strings.Join(want, "\n") {
		t.Errorf("Lines = %q, want %q", got.Lines, want)
	}
}

func TestFindLeavesOutTheLogPrefix(t *testing.T) {
	got, _ := Find(readFixture(t, "logging_prefix.log"))
	if got.Lines[len(got.Lines)-1] != "ZeroDivisionError: division by zero" {
		t.Errorf("last line = %q", got.Lines[len(got.Lines)-1])
	}
}

func TestFind(t *testing.T) {
	const plain = "Traceback (most recent call last):\n" +
		"  File \"/app/main.py\", line 3, in <module>\n" +
		"    main()\n" +
		"ValueError: first\n"
	tests := []struct {
		name       string
		log        string
		ok         bool
		exception  safetext.Text
		start, end int
	}{
		{name: "no traceback", log: "INFO starting\nINFO listening on :8080\n"},
		{name: "empty", log: ""},
		{name: "header quoted in a message is not a traceback", log: `WARN grep for "Traceback (most recent call last):" in the logs` + "\nValueError: x\n"},
		{
			name: "the last of two tracebacks wins",
			log:  plain + "INFO restarting\n" + strings.Replace(plain, "first", "second", 1) + "INFO done\n",
			ok:   true, exception: "ValueError: second", start: 5, end: 9,
		},
		{
			name: "CRLF",
			log:  strings.ReplaceAll(plain, "\n", "\r\n"),
			ok:   true, exception: "ValueError: first", start: 0, end: 4,
		},
		{
			name: "gunicorn prefix on the header line only",
			log:  "[2026-11-23 10:00:00 +0000] [7] [ERROR] " + plain + "[2026-11-23 10:00:00 +0000] [7] [INFO] Worker exiting (pid: 7)\n",
			ok:   true, exception: "ValueError: first", start: 0, end: 4,
		},
		{
			name: "ANSI colours, as Python 3.13 and coloured log levels print them",
			log: "\x1b[31mERROR\x1b[0m \x1b[35mTraceback (most recent call last):\x1b[0m\n" +
				"  File \x1b[35m\"/app/main.py\"\x1b[0m, line \x1b[35m3\x1b[0m, in \x1b[35m<module>\x1b[0m\n" +
				"    \x1b[31mmain\x1b[0m\x1b[1;31m()\x1b[0m\n" +
				"\x1b[1;35mValueError\x1b[0m: \x1b[35mbad \x1b]0;pwned\x07port\x1b[0m\n",
			ok: true, exception: "ValueError: bad port", start: 0, end: 4,
		},
		{
			name: "invalid UTF-8 and control characters, escaped",
			log:  strings.Replace(plain, "ValueError: first", "UnicodeDecodeError: \xff\xfe\x00bad\tbyte\x7f", 1),
			ok:   true, exception: `UnicodeDecodeError: \xff\xfe\x00bad byte\x7f`, start: 0, end: 4,
		},
		{
			name: "truncated before the exception line: found, with no exception",
			log:  plain + "INFO restarting\nTraceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    main()\n",
			ok:   true, exception: "", start: 5, end: 8,
		},
		{
			name: "truncated after a chain separator",
			log:  plain + "\nDuring handling of the above exception, another exception occurred:\n\n",
			ok:   true, exception: "", start: 0, end: 6,
		},
		{
			name: "interleaved with JSON lines",
			log:  `{"level":"info","msg":"up"}` + "\n" + plain + `{"level":"info","msg":"Traceback (most recent call last): is not in this one"}` + "\n",
			ok:   true, exception: "ValueError: first", start: 1, end: 5,
		},
		{
			name: "JSON line with a chain, unicode escapes and a nested field",
			log: `{"level":"info"}` + "\n" +
				`{"level":"error","error":{"kind":"x","stack":"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nKeyError: 'k'\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File \"a.py\", line 3, in <module>\nRuntimeError: caf\u00e9 \ud83d\ude00 \u001b[31mred\"quoted\""}}` + "\n" +
				`{"level":"info"}` + "\n",
			ok: true, exception: `RuntimeError: café 😀 red"quoted"`, start: 1, end: 2,
		},
		{
			name: "JSON line cut short by the log pipeline",
			log:  `{"level":"error","exception":"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    f(`,
			ok:   true, exception: "", start: 0, end: 1,
		},
		{
			name: "frames without a header: a log cut by --tail",
			log:  "  File \"/app/main.py\", line 3, in <module>\n    main()\nValueError: first\n",
			ok:   true, exception: "ValueError: first", start: 0, end: 3,
		},
		{
			name: "frames without a header followed by a plain log line: a stack dump",
			log:  "Stack (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    main()\nINFO:root:ready\n",
		},
		{
			name: "tail cut inside an exception group",
			log: "    | Traceback (most recent call last):\n" +
				"    |   File \"/app/main.py\", line 9, in <module>\n" +
				"    | ValueError: port 80 is privileged\n" +
				"    +------------------------------------\n" +
				"INFO exiting\n",
			ok: true, exception: "ValueError: port 80 is privileged", start: 0, end: 4,
		},
		{
			name: "exception group chained to a plain traceback",
			log: "  + Exception Group Traceback (most recent call last):\n" +
				"  |   File \"/app/main.py\", line 1, in <module>\n" +
				"  | ExceptionGroup: two (1 sub-exception)\n" +
				"  +-+---------------- 1 ----------------\n" +
				"    | ValueError: 1\n" +
				"    +------------------------------------\n" +
				"\n" +
				"During handling of the above exception, another exception occurred:\n" +
				"\n" +
				plain,
			ok: true, exception: "ValueError: first", start: 0, end: 13,
		},
		{
			name: "a raised SyntaxError has no location line",
			log:  "Traceback (most recent call last):\n  File \"a.py\", line 2, in f\n    raise SyntaxError(\"bad\")\nSyntaxError: bad\n",
			ok:   true, exception: "SyntaxError: bad", start: 0, end: 4,
		},
		{
			name: "a SyntaxError that already says where",
			log:  "Traceback (most recent call last):\n  File \"app.py\", line 12\n    x = = 1\n      ^\nSyntaxError: invalid syntax (app.py, line 12)\n",
			ok:   true, exception: "SyntaxError: invalid syntax (app.py, line 12)", start: 0, end: 5,
		},
		{
			name: "a multi-line message: the first line only",
			log:  "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: line one\nline two\n",
			ok:   true, exception: "ValueError: line one", start: 0, end: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Find(tt.log)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, got)
			}
			if !ok {
				return
			}
			if got.Exception != tt.exception || got.Start != tt.start || got.End != tt.end {
				t.Errorf("Exception, Start, End = %q, %d, %d, want %q, %d, %d", got.Exception, got.Start, got.End, tt.exception, tt.start, tt.end)
			}
			checkClean(t, got)
		})
	}
}

func TestFindCapsLinesAtTheEnd(t *testing.T) {
	var b strings.Builder
	b.WriteString("INFO start\n" + tracebackHeader + "\n")
	for i := 0; i < 1000; i++ {
		b.WriteString("  File \"a.py\", line 1, in f\n    f()\n")
	}
	b.WriteString("RecursionError: maximum recursion depth exceeded\n")
	got, _ := Find(b.String())
	if len(got.Lines) != maxLines {
		t.Errorf("len(Lines) = %d, want %d", len(got.Lines), maxLines)
	}
	if last := got.Lines[len(got.Lines)-1]; last != got.Exception {
		t.Errorf("last line = %q, want the exception", last)
	}
	if got.Start != 1 || got.End != 2003 {
		t.Errorf("Start, End = %d, %d, want the whole block, 1, 2003", got.Start, got.End)
	}
}

func TestFindClipsTheException(t *testing.T) {
	log := tracebackHeader + "\n  File \"a.py\", line 1, in <module>\nValueError: " + strings.Repeat("é", 1000) + "\n"
	got, _ := Find(log)
	if n := utf8.RuneCountInString(string(got.Exception)); n != maxExceptionLen {
		t.Errorf("Exception has %d runes, want %d", n, maxExceptionLen)
	}
	if !strings.HasSuffix(string(got.Exception), "é…") {
		t.Errorf("Exception ends %q, want an ellipsis", got.Exception[len(got.Exception)-10:])
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func joinLines(lines []safetext.Text) string {
	return strings.Join(safetext.Strings(lines), "\n")
}

func first(lines []safetext.Text) safetext.Text {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}
