package rollout

import (
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// pythonException matches the last line of a Python traceback: the exception type
// (possibly dotted, e.g. psycopg2.OperationalError) and its message.
var pythonException = regexp.MustCompile(`^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|Failure|Timeout|NotFound)|KeyboardInterrupt|SystemExit|StopIteration)(:\s.*)?$`)

// pythonHint is the one line that best explains why a Python pod fails: the exception
// that ended it, the memory limit it hit, or what gunicorn/uvicorn said.
func pythonHint(p Pod, pod *corev1.Pod) safetext.Text {
	if p.Reason == ReasonOOMKilled {
		memLimit := memoryLimit(pod)
		if memLimit != "" {
			return safetext.Sprintf("OOMKilled: the container exceeded its memory limit (%s)", memLimit)
		}
		return "OOMKilled: the container ran out of memory"
	}
	if hint := HintFromLog(p.TerminationMessage); hint != "" {
		return hint
	}
	if p.ExitCode != nil && *p.ExitCode == 137 && p.Reason != "" {
		return "killed (exit 137, SIGKILL): memory limit or liveness probe"
	}
	return ""
}

// HintFromLog finds the explaining line in a termination message or log tail (already
// safe, lines kept: safetext.Block): the last Python exception line, else a gunicorn or
// uvicorn failure.
func HintFromLog(text safetext.Text) safetext.Text {
	if text == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if line := strings.TrimSpace(lines[i]); pythonException.MatchString(line) {
			return safetext.LineN(line, 200)
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		switch {
		case strings.Contains(line, "WORKER TIMEOUT"):
			return "gunicorn WORKER TIMEOUT: a request took longer than --timeout"
		case strings.Contains(line, "Worker failed to boot"):
			return "gunicorn: worker failed to boot"
		case strings.Contains(line, "Error loading ASGI app"):
			return "uvicorn: " + safetext.LineN(afterLevel(line), 180)
		case strings.Contains(line, "Application startup failed"):
			return "uvicorn: application startup failed"
		}
	}
	return ""
}

// afterLevel drops a leading log level such as "ERROR:    ".
func afterLevel(line string) string {
	if i := strings.Index(line, ":"); i > 0 && i < 10 && strings.ToUpper(line[:i]) == line[:i] {
		return line[i+1:]
	}
	return line
}
