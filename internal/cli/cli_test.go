package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

func run(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	cmd := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), ExitCode(err)
}

func TestVersion(t *testing.T) {
	out, _, code := run("version", "-o", "json")
	var info struct{ Version, Commit, GoVersion string }
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || !strings.HasPrefix(info.GoVersion, "go1.") {
		t.Fatalf("version -o json: code %d, %q", code, out)
	}
}

func TestHelpListsCommands(t *testing.T) {
	out, _, code := run("--help")
	for _, want := range []string{"kubectl pyroll", "status", "version", "--kubeconfig", "--context", "-n, --namespace"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if code != 0 {
		t.Errorf("--help exit code %d", code)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"status", "-o", "yaml"},
		{"status", "--watch", "-o", "json"},
		{"status", "api", "-A"},
		{"status", "-l", "a in (b"},
		{"status", "a", "b"},
	} {
		_, _, code := run(args...)
		if code != ExitUsage {
			t.Errorf("%v: exit code %d, want %d", args, code, ExitUsage)
		}
	}
}

func TestStatusTableFits80Columns(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rollouts := []rollout.Rollout{
		{Namespace: "shop", Name: "a-deployment-with-a-really-quite-long-name", Phase: rollout.PhaseDegraded, CanaryRevision: 12, StableRevision: 11,
			Why: "2/3 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson' and then some more words to wrap", StartedAt: now.Add(-90 * time.Minute)},
		{Namespace: "shop", Name: "b", Phase: rollout.PhaseComplete, CanaryRevision: 3, StartedAt: now.Add(-72 * time.Hour)},
	}
	var out bytes.Buffer
	p := newStatusPrinter(&out, &out, "table", true, "ctx", "shop")
	if err := p.all(rollouts, now); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	for _, want := range []string{"11→12", "1h", "3d", "Degraded", "Complete"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// The shim shipped in the release archives is the one `completion kubectl` prints.
func TestShippedCompletionShimIsTheOnePrinted(t *testing.T) {
	shipped, err := os.ReadFile(filepath.Join("..", "..", "assets", "kubectl_complete-pyroll"))
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != kubectlShim {
		t.Errorf("assets/kubectl_complete-pyroll differs from 'completion kubectl':\n%s", shipped)
	}
}

// Each shell's completion script is valid for that shell (bash checks syntax with -n), and
// the kubectl shim is a script that hands kubectl's arguments to __complete.
func TestCompletionScripts(t *testing.T) {
	out, _, code := run("completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_kubectl-pyroll") {
		t.Fatalf("completion bash: exit %d\n%.200s", code, out)
	}
	bash := exec.Command("bash", "-n")
	bash.Stdin = strings.NewReader(out)
	if msg, err := bash.CombinedOutput(); err != nil {
		t.Errorf("bash -n on the completion script: %v\n%s", err, msg)
	}
	for _, shell := range []string{"zsh", "fish", "powershell"} {
		if out, _, code := run("completion", shell); code != 0 || !strings.Contains(out, "kubectl-pyroll") {
			t.Errorf("completion %s: exit %d", shell, code)
		}
	}
	if out, _, code := run("completion", "kubectl"); code != 0 || !strings.Contains(out, `exec kubectl-pyroll __complete "$@"`) {
		t.Errorf("completion kubectl: exit %d\n%s", code, out)
	}
}
