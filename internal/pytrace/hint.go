package pytrace

import (
	"strings"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Hint returns the one line to show on a pod row: the exception of the last traceback, or,
// when there is none, a recognised gunicorn/uvicorn failure line ("gunicorn: Worker failed to
// boot", "gunicorn WORKER TIMEOUT (pid:12)", "uvicorn: Application startup failed"), else "".
//
// A SystemExit is not a cause: gunicorn's sync worker logs one ("Error handling request",
// then "SystemExit: 1") when the master kills it after a WORKER TIMEOUT, so there the server's
// line says more.
func Hint(log string) safetext.Text {
	t, ok := Find(log)
	if ok && t.Exception != "" && !isSystemExit(string(t.Exception)) {
		return t.Exception
	}
	if failure := lastServerFailure(log); failure != "" {
		return failure
	}
	return t.Exception
}

func isSystemExit(exception string) bool {
	name, _, _ := strings.Cut(exception, ":")
	return name == "SystemExit"
}

// failureMarker pairs a marker that gunicorn or uvicorn prints with the hint for it.
type failureMarker struct {
	marker string
	hint   func(rest string) safetext.Text
}

var failureMarkers = [...]failureMarker{
	{"Reason: Worker failed to boot.", fixed("gunicorn: Worker failed to boot")},
	{"Reason: App failed to load.", fixed("gunicorn: App failed to load")},
	{"WORKER TIMEOUT", func(rest string) safetext.Text { return "gunicorn WORKER TIMEOUT" + pidSuffix(rest) }},
	{"was sent SIGKILL! Perhaps out of memory?", fixed("gunicorn: worker was sent SIGKILL, perhaps out of memory")},
	{"Application startup failed. Exiting.", fixed("uvicorn: Application startup failed")},
	// uvicorn prints this, without a traceback, when the module named on its command line is
	// missing; the rest says which.
	{"Error loading ASGI app.", func(rest string) safetext.Text {
		return safetext.LineN("uvicorn: Error loading ASGI app."+string(safetext.Log(rest)), maxExceptionLen)
	}},
}

func fixed(hint safetext.Text) func(string) safetext.Text {
	return func(string) safetext.Text { return hint }
}

// lastServerFailure returns the hint for the last failure line in the log, the latest news being
// the one that matters for a crash-looping pod.
func lastServerFailure(log string) safetext.Text {
	best, bestAt := -1, -1
	for i, f := range failureMarkers {
		if at := strings.LastIndex(log, f.marker); at > bestAt {
			best, bestAt = i, at
		}
	}
	if best < 0 {
		return ""
	}
	f := failureMarkers[best]
	rest := log[bestAt+len(f.marker):]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	return f.hint(strings.TrimRight(rest, "\r"))
}

// pidSuffix keeps the " (pid:12)" of "WORKER TIMEOUT (pid:12)" when it is what it looks like.
func pidSuffix(rest string) safetext.Text {
	pid, ok := strings.CutPrefix(rest, " (pid:")
	if !ok {
		return ""
	}
	pid, _, ok = strings.Cut(pid, ")")
	if !ok || pid == "" || len(pid) > 10 || !allDigits(pid) {
		return ""
	}
	return safetext.Sprintf(" (pid:%s)", pid)
}
