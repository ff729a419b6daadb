//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// execKubeconfig writes a kubeconfig for sb whose user gets its credentials from an exec
// plugin, /bin/sh -c script, and returns its path.
func execKubeconfig(t *testing.T, sb *sandbox.Sandbox, script string) string {
	t.Helper()
	admin, err := clientcmd.LoadFromFile(sb.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	for name, c := range admin.Clusters {
		cfg.Clusters[name] = c
		cfg.Contexts["sso"] = &clientcmdapi.Context{Cluster: name, AuthInfo: "sso", Namespace: "demo"}
	}
	cfg.AuthInfos["sso"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1", Command: "/bin/sh", Args: []string{"-c", script},
		InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode,
	}}
	cfg.CurrentContext = "sso"
	path := filepath.Join(t.TempDir(), "kubeconfig-exec")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// exited matches what the shell prints once the command ended (not the command line).
var exited = regexp.MustCompile(`CONSOLE-EXITED-[0-9]+`)

// processesRunning returns the pids of the processes whose command line is exactly args.
func processesRunning(args ...string) []int {
	want := strings.Join(args, "\x00") + "\x00"
	var pids []int
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		data, err := os.ReadFile(path)
		if err != nil || string(data) != want {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// noneLeft fails the test if a process with exactly args runs, and ends those (by pid).
func noneLeft(t *testing.T, args ...string) {
	t.Helper()
	if pids := processesRunning(args...); len(pids) > 0 {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Errorf("%q still runs (pids %v) after kubectl-pyroll ended", strings.Join(args, " "), pids)
	}
}

// parentOf reads a process's parent pid from /proc (0 when it is gone).
func parentOf(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// descendsFrom says whether pid runs under ancestor.
func descendsFrom(pid, ancestor int) bool {
	for p := parentOf(pid); p > 1; p = parentOf(p) {
		if p == ancestor {
			return true
		}
	}
	return false
}

// pyrollIn returns the pid of the kubectl-pyroll the pane's shell runs (0 if none).
func pyrollIn(t *testing.T, pane *tmuxPane) int {
	t.Helper()
	shell, err := pane.session.PanePID()
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range processesRunningPrefix(pyrollBinary()) {
		if descendsFrom(pid, shell) {
			return pid
		}
	}
	return 0
}

// processesRunningPrefix returns the pids of the processes whose program is bin.
func processesRunningPrefix(bin string) []int {
	var pids []int
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		data, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(data, []byte(bin+"\x00")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// terminalState is tmux's word on the pane: in the alternate screen, cursor visible.
func terminalState(t *testing.T, pane *tmuxPane) (alternate, cursor bool) {
	t.Helper()
	out, err := pane.session.Run("display-message", "-p", "-t", "main", "#{alternate_on} #{cursor_flag}")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(out)
	if len(fields) != 2 {
		t.Fatalf("tmux display-message: %q", out)
	}
	return fields[0] == "1", fields[1] == "1"
}

// An exec credential plugin that never answers (client-go gives it no deadline): the
// console and status say so, in one clear error on the plain terminal, before any
// full-screen console, within their connection timeout, exit 1, and leave no plugin behind.
func TestFaultHungExecPlugin(t *testing.T) {
	sb := sandboxtest.Get(t)

	t.Run("status", func(t *testing.T) {
		kubeconfig := execKubeconfig(t, sb, "sleep 600.51")
		stdout, stderr, code := runPyroll(t, 2*time.Minute, kubeconfig, "status", "--timeout", "10s")
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) != 1 || !strings.Contains(stderr, `the kubeconfig's exec credential plugin (user "sso": /bin/sh -c sleep 600.51) did not answer within 10s`) {
			t.Errorf("exit %d, stderr %q, stdout %q; want exit 1 and one line naming the plugin", code, stderr, stdout)
		}
		noneLeft(t, "sleep", "600.51")
	})

	t.Run("console", func(t *testing.T) {
		kubeconfig := execKubeconfig(t, sb, "sleep 600.52")
		pane := startTmux(t, 160, 30)
		raw := filepath.Join(t.TempDir(), "terminal.raw")
		pane.pipeTo(raw)
		pane.keys(pyrollBinary() + " --kubeconfig " + kubeconfig + "; echo CONSOLE-EXITED-$?")
		pane.key("Enter")
		var alternate bool
		s := pane.waitScreen("the error and the exit code (after the 30 s connection timeout)", func(s string) bool {
			if a, _ := terminalState(t, pane); a {
				alternate = true
			}
			return exited.MatchString(s)
		})
		if !strings.Contains(s, "CONSOLE-EXITED-1") || !strings.Contains(strings.Join(strings.Fields(s), " "), `error: the kubeconfig's exec credential plugin (user "sso": /bin/sh -c sleep 600.52) did not answer within 30s`) {
			t.Errorf("want the plugin named and exit 1:\n%s", s)
		}
		waitFor(t, "the terminal's bytes in the file", func() bool {
			data, _ := os.ReadFile(raw)
			return exited.Match(data)
		})
		data, _ := os.ReadFile(raw)
		if alternate || bytes.Contains(data, []byte("\x1b[?1049h")) {
			t.Errorf("the console opened the alternate screen (it should fail before it)")
		}
		noneLeft(t, "sleep", "600.52")
	})
}

// The SSH connection drops (SIGHUP to the console) while the exec credential plugin is
// running (a hung refresh of expired credentials): the console ends, exit 129, and nothing it
// started is left: not the plugin, not what the plugin started (its connections, and so its
// watches, end with the process).
func TestFaultHangupLeavesNothingBehind(t *testing.T) {
	sb := sandboxtest.Get(t)
	dir := t.TempDir()
	// The plugin hands out the admin's certificate, already expired, so that client-go runs
	// it again for each request; once the file "hang" exists, it hangs instead.
	admin := sb.RESTConfig()
	cred, err := json.Marshal(map[string]any{
		"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
		"status": map[string]any{
			"clientCertificateData": string(admin.CertData), "clientKeyData": string(admin.KeyData),
			"expirationTimestamp": "2000-01-01T00:00:00Z",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cred.json"), cred, 0o600); err != nil {
		t.Fatal(err)
	}
	hang := filepath.Join(dir, "hang")
	kubeconfig := execKubeconfig(t, sb, "if [ -e "+hang+" ]; then exec sleep 600.61; fi; cat "+filepath.Join(dir, "cred.json"))
	pane := startConsole(t, kubeconfig, "-n", "demo")
	pane.waitScreen("the demo's rollouts, live", func(s string) bool { return isLive(s) && rowOf(s, "payments-api") != "" })
	console := pyrollIn(t, pane)
	if console == 0 {
		t.Fatal("no kubectl-pyroll process under the pane's shell")
	}

	// The next request (the console asks the API server whether it is ready every few
	// seconds) runs the plugin, which now hangs.
	if err := os.WriteFile(hang, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var plugin int
	waitFor(t, "the plugin hanging under the console", func() bool {
		for _, pid := range processesRunning("sleep", "600.61") {
			if descendsFrom(pid, console) {
				plugin = pid
				return true
			}
		}
		return false
	})

	if err := syscall.Kill(console, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s := pane.waitScreen("the console gone", exited.MatchString)
	if !strings.Contains(s, "CONSOLE-EXITED-129") {
		t.Errorf("want exit 129 (SIGHUP):\n%s", s)
	}
	waitFor(t, "the console's process gone", func() bool { return parentOf(console) == 0 })
	if parentOf(plugin) != 0 {
		t.Errorf("the plugin (pid %d) outlived the console", plugin)
	}
	noneLeft(t, "sleep", "600.61")
}

// A panic in the console (in Update, in View, in a command: a test hook makes one at the
// "!" key): the terminal is given back (out of the alternate screen, cursor visible, the
// terminal's modes as before), one error line and a request to report it, no stack trace,
// exit 1, and the shell works.
func TestFaultPanicRestoresTheTerminal(t *testing.T) {
	sb := sandboxtest.Get(t)
	for _, where := range []string{"update", "view", "cmd"} {
		t.Run(where, func(t *testing.T) {
			dir := t.TempDir()
			pane := startTmux(t, 160, 30)
			pane.keys("stty -g > " + filepath.Join(dir, "before"))
			pane.key("Enter")
			pane.keys("PYROLL_TEST_PANIC=" + where + " " + pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n demo; echo CONSOLE-EXITED-$?")
			pane.key("Enter")
			pane.waitScreen("the demo's rollouts", func(s string) bool { return isLive(s) && rowOf(s, "payments-api") != "" })
			if alternate, _ := terminalState(t, pane); !alternate {
				t.Fatal("the console is not in the alternate screen")
			}
			pane.keys("!")
			s := pane.waitScreen("the shell again", exited.MatchString)
			if !strings.Contains(s, "CONSOLE-EXITED-1") {
				t.Errorf("want exit 1:\n%s", s)
			}
			text := strings.Join(strings.Fields(s), " ")
			if !strings.Contains(text, "error: internal error in the console (") || !strings.Contains(text, "test panic in") || !strings.Contains(text, "please report it at https://github.com/pyroll/kubectl-pyroll/issues, with the details in /") {
				t.Errorf("want one error line and the request to report it:\n%s", s)
			}
			// The stack is in the file the message names, for the report.
			if m := regexp.MustCompile(`with the details in (\S+\.txt)`).FindStringSubmatch(text); m != nil {
				details, err := os.ReadFile(m[1])
				if err != nil || !bytes.Contains(details, []byte("goroutine ")) || !bytes.Contains(details, []byte("PYROLL_TEST_PANIC="+where)) {
					t.Errorf("the details file %s: %v\n%s", m[1], err, details)
				}
				_ = os.Remove(m[1])
			}
			for _, trace := range []string{"goroutine ", ".go:", "Caught panic", "panic("} {
				if strings.Contains(s, trace) {
					t.Errorf("a stack trace on the user's terminal (%q):\n%s", trace, s)
				}
			}
			if alternate, cursor := terminalState(t, pane); alternate || !cursor {
				t.Errorf("after the panic: alternate screen %v, cursor visible %v; want false, true", alternate, cursor)
			}
			pane.keys("stty -g > " + filepath.Join(dir, "after") + "; echo SHELL-OK-$((20+22))")
			pane.key("Enter")
			pane.waitScreen("the shell running a command", func(s string) bool { return strings.Contains(s, "SHELL-OK-42") })
			before, _ := os.ReadFile(filepath.Join(dir, "before"))
			after, _ := os.ReadFile(filepath.Join(dir, "after"))
			if len(before) == 0 || !bytes.Equal(before, after) {
				t.Errorf("the terminal's modes changed: stty -g %q before, %q after", before, after)
			}
		})
	}
}
