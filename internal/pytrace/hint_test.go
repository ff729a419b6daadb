package pytrace

import (
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

func TestHint(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want safetext.Text
	}{
		{name: "nothing", log: "INFO ready\n", want: ""},
		{
			name: "gunicorn worker failed to boot without a traceback",
			log: "[2026-11-23 10:00:00 +0000] [1] [INFO] Shutting down: Master\n" +
				"[2026-11-23 10:00:00 +0000] [1] [INFO] Reason: Worker failed to boot.\n",
			want: "gunicorn: Worker failed to boot",
		},
		{
			name: "gunicorn app failed to load",
			log:  "[2026-11-23 10:00:00 +0000] [1] [INFO] Reason: App failed to load.\r\n",
			want: "gunicorn: App failed to load",
		},
		{
			name: "gunicorn WORKER TIMEOUT",
			log: "[2026-11-23 10:00:00 +0000] [1] [INFO] Booting worker with pid: 12\n" +
				"[2026-11-23 10:00:31 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:12)\n" +
				"[2026-11-23 10:00:31 +0000] [13] [INFO] Booting worker with pid: 13\n",
			want: "gunicorn WORKER TIMEOUT (pid:12)",
		},
		{
			name: "gunicorn WORKER TIMEOUT beats the SystemExit the killed worker logs",
			log: "[2026-11-23 10:00:31 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:12)\n" +
				"[2026-11-23 10:00:31 +0000] [12] [ERROR] Error handling request /slow\n" +
				"Traceback (most recent call last):\n" +
				"  File \"/usr/lib/python3/dist-packages/gunicorn/workers/base.py\", line 203, in handle_abort\n" +
				"    sys.exit(1)\n" +
				"SystemExit: 1\n",
			want: "gunicorn WORKER TIMEOUT (pid:12)",
		},
		{
			name: "a SystemExit alone is still shown",
			log:  "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nSystemExit: 2\n",
			want: "SystemExit: 2",
		},
		{
			name: "gunicorn WORKER TIMEOUT with a mangled pid",
			log:  "[CRITICAL] WORKER TIMEOUT (pid:\x1b[31m12)\n",
			want: "gunicorn WORKER TIMEOUT",
		},
		{
			name: "gunicorn OOM kill",
			log:  "[2026-11-23 10:00:31 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?\n",
			want: "gunicorn: worker was sent SIGKILL, perhaps out of memory",
		},
		{
			name: "uvicorn startup failure",
			log: "INFO:     Started server process [1]\n" +
				"INFO:     Waiting for application startup.\n" +
				"ERROR:    Application startup failed. Exiting.\n",
			want: "uvicorn: Application startup failed",
		},
		{
			name: "uvicorn cannot import the app",
			log:  "ERROR:    Error loading ASGI app. Could not import module \"main\".\n",
			want: "uvicorn: Error loading ASGI app. Could not import module \"main\".",
		},
		{
			name: "the latest failure line wins",
			log:  "[CRITICAL] WORKER TIMEOUT (pid:12)\nReason: Worker failed to boot.\n",
			want: "gunicorn: Worker failed to boot",
		},
		{
			name: "a traceback beats the failure lines",
			log: "INFO:     Waiting for application startup.\n" +
				"ERROR:    Traceback (most recent call last):\n" +
				"  File \"/app/main.py\", line 9, in lifespan\n" +
				"    await db.connect()\n" +
				"ConnectionRefusedError: [Errno 111] Connect call failed ('10.0.0.5', 5432)\n" +
				"\n" +
				"ERROR:    Application startup failed. Exiting.\n",
			want: "ConnectionRefusedError: [Errno 111] Connect call failed ('10.0.0.5', 5432)",
		},
		{
			name: "the first unindented line after frames is the exception, even a server's",
			log:  "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nERROR:    Application startup failed. Exiting.",
			want: "ERROR:    Application startup failed. Exiting.",
		},
		{
			name: "a traceback cut short with no failure line",
			log:  "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Hint(tt.log); got != tt.want {
				t.Errorf("Hint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHintForGunicornFixtureIsTheRealException(t *testing.T) {
	log := readFixture(t, "gunicorn_worker_failed_to_boot.log")
	if !strings.Contains(log, "Reason: Worker failed to boot.") {
		t.Fatal("fixture lacks gunicorn's reason line")
	}
	if got := Hint(log); got != "ModuleNotFoundError: No module named 'orjson'" {
		t.Errorf("Hint = %q", got)
	}
}
