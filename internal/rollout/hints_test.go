package rollout

import (
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

func TestHintFromLog(t *testing.T) {
	cases := []struct {
		name      string
		log, want safetext.Text
	}{
		{"module not found", "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    import orjson\nModuleNotFoundError: No module named 'orjson'", "ModuleNotFoundError: No module named 'orjson'"},
		{"import error", "Traceback (most recent call last):\nImportError: cannot import name 'BaseSettings' from 'pydantic' (/usr/lib/python3/pydantic/__init__.py)\n", "ImportError: cannot import name 'BaseSettings' from 'pydantic' (/usr/lib/python3/pydantic/__init__.py)"},
		{"syntax error", "  File \"/app/app.py\", line 12\n    def handler(:\n                ^\nSyntaxError: invalid syntax", "SyntaxError: invalid syntax"},
		{"chained exceptions: the last one ended it", "KeyError: 'DATABASE_URL'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\nRuntimeError: DATABASE_URL is not set", "RuntimeError: DATABASE_URL is not set"},
		{"dotted exception type", "psycopg2.OperationalError: could not connect to server: Connection refused", "psycopg2.OperationalError: could not connect to server: Connection refused"},
		{"gunicorn worker timeout", "[2026-11-22 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)\n[2026-11-22 10:00:00 +0000] [8] [INFO] Worker exiting (pid: 8)", "gunicorn WORKER TIMEOUT: a request took longer than --timeout"},
		{"gunicorn boot failure without traceback", "[1] [INFO] Shutting down: Master\n[1] [INFO] Reason: Worker failed to boot.", "gunicorn: worker failed to boot"},
		{"uvicorn import failure", "ERROR:    Error loading ASGI app. Could not import module \"main\".", "uvicorn: Error loading ASGI app. Could not import module \"main\"."},
		{"uvicorn startup failure", "INFO:     Waiting for application startup.\nERROR:    Application startup failed. Exiting.", "uvicorn: application startup failed"},
		{"nothing Python about it", "exec /app/start.sh: no such file or directory", ""},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := HintFromLog(c.log); got != c.want {
				t.Errorf("HintFromLog = %q, want %q", got, c.want)
			}
		})
	}
}

func TestHintIsClipped(t *testing.T) {
	long := safetext.Block("ValueError: " + strings.Repeat("x", 500))
	if got := []rune(string(HintFromLog(long))); len(got) != 200 {
		t.Errorf("hint of %d runes, want clipped to 200", len(got))
	}
}
