package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/jumphost"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/ui/app"
)

func TestServeHelpSaysTheKeyFormat(t *testing.T) {
	out, _, code := run("serve", "--help")
	for _, want := range []string{"pyroll-user=", "pyroll-groups=", "pyroll-write", `from="10.0.0.0/8"`, "--authorized-keys", "--allow-write", "--idle", "--max-sessions", "ssh -p 2222 jump.example.com orders-api", "Jump host"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	if code != 0 || strings.Contains(out, "--debug-addr") {
		t.Errorf("serve --help: exit %d (the debug address must stay hidden)", code)
	}
}

func TestServeUsageErrors(t *testing.T) {
	keys := []string{"--authorized-keys", "keys", "--host-key", "host_key"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--ssh ADDR is required"},
		{[]string{"serve", "--ssh", ":2222", "--host-key", "k"}, "--authorized-keys FILE is required"},
		{[]string{"serve", "--ssh", ":2222", "--authorized-keys", "k"}, "--host-key FILE is required"},
		{append([]string{"serve", "--ssh", "2222"}, keys...), `want HOST:PORT`},
		{append([]string{"serve", "--ssh", ":2222", "--max-sessions", "0"}, keys...), "at least 1"},
		{append([]string{"serve", "--ssh", ":2222", "--idle", "-1s"}, keys...), "cannot be negative"},
		{append([]string{"serve", "--ssh", ":2222", "--allow-write", "--read-only"}, keys...), "contradict"},
		{append([]string{"serve", "--ssh", ":2222", "--as", "admin"}, keys...), "without --as"},
		{append([]string{"serve", "--ssh", ":2222", "orders-api"}, keys...), "unknown command"},
	} {
		_, _, code := run(c.args...)
		err := runErr(c.args...)
		if code != ExitUsage || err == nil || !strings.Contains(err.Error(), c.want) || strings.Count(strings.TrimSpace(err.Error()), "\n") > 1 {
			t.Errorf("%v: exit %d, %v; want exit 2 saying %q", c.args, code, err, c.want)
		}
	}
}

// The console of an SSH session takes its colours from the client's environment, never
// from the server's.
func TestColourFromTheTerminalsEnvironmentOnly(t *testing.T) {
	t.Setenv("NO_COLOR", "1") // the server's
	o := &Options{}
	if !o.colorEnabled([]string{"TERM=xterm-256color"}) {
		t.Errorf("a session without NO_COLOR drew without colours because the server has NO_COLOR")
	}
	if o.colorEnabled([]string{"TERM=xterm-256color", "NO_COLOR=1"}) {
		t.Errorf("a session with NO_COLOR drew in colour")
	}
	o.NoColor = true
	if o.colorEnabled(nil) {
		t.Errorf("--no-color ignored")
	}
}

// runErr runs the command and returns its error (the line main prints).
func runErr(args ...string) error {
	cmd := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	cmd.SetArgs(args)
	return cmd.Execute()
}

// A session's panic: the stack goes to a crash file named in the server's log (its value
// escaped: it may quote the cluster), and the user reads one line without either.
func TestSessionCrashStaysOnTheServer(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var log bytes.Buffer
	o := &ServeOptions{ConsoleOptions: ConsoleOptions{Options: &Options{IOStreams: genericiooptions.IOStreams{ErrOut: &log}}}}
	s := &jumphost.Session{ID: "s-7", Identity: jumphost.Identity{User: "alice@example.com"}}
	told := o.sessionCrashed(s, &app.PanicError{Where: "View", Value: "bad image \x1b]52;c;aGk=\a", Stack: []byte("goroutine 1 [running]:\nmain.secret()")})
	line := log.String()
	for _, want := range []string{`session s-7 of "alice@example.com": internal error in the console (View): bad image \x1b]52;c;aGk=\x07;`, "with the details in " + os.Getenv("TMPDIR")} {
		if !strings.Contains(line, want) {
			t.Errorf("server log lacks %q:\n%s", want, line)
		}
	}
	if strings.ContainsRune(line, '\x1b') || strings.Count(line, "\n") != 1 {
		t.Errorf("server log line carries a raw escape or more than one line: %q", line)
	}
	if strings.Contains(told, "goroutine") || strings.Contains(told, "bad image") || !strings.Contains(told, "session s-7") {
		t.Errorf("the user's line: %q", told)
	}
}

// A session whose key may not write acts through a Service that refuses, whatever the
// console shows, and each refusal is a line of the audit log (once a minute per refusal).
func TestReadOnlySessionIsRefusedByTheServiceAndAudited(t *testing.T) {
	client, _ := shopAPI(t)
	var audit bytes.Buffer
	session := jumphost.NewSession(jumphost.NewAudit(&audit, nil), "3f1c0a9e.1", jumphost.Identity{User: "bob@example.com", Fingerprint: "SHA256:bob"})
	o := &ConsoleOptions{Options: &Options{}}
	s := consoleSession{
		readOnly: true, readOnlyReason: "read-only: this key has no pyroll-write",
		wrapActor: func(a app.Actor) app.Actor { return auditedActor{Actor: a, session: session} },
	}
	actor := s.wrapped(o.actor(&kube.Cluster{Client: kubeapitest.FromClientset(client)}, "bob@example.com", s, nil))
	halt := intent.Request{Action: intent.Halt, Target: ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "api"}}
	for range 3 {
		if _, err := actor.Plan(context.Background(), halt); !errors.Is(err, actions.ErrRefused) {
			t.Fatalf("halt by a read-only session: %v; want refused", err)
		}
	}
	if _, err := actor.Apply(context.Background(), intent.Plan{Request: halt}); !errors.Is(err, actions.ErrRefused) {
		t.Fatalf("apply by a read-only session: %v; want refused", err)
	}
	if deployment(t, client).Spec.Paused {
		t.Fatal("a read-only session halted the Deployment")
	}
	lines := strings.Split(strings.TrimSpace(audit.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("audit log: %d lines; want one refusal (repeats within a minute are not written again):\n%s", len(lines), audit.String())
	}
	var rec jumphost.Record
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Event != "action" || rec.Result != "refused" || rec.Verb != "halt" || rec.Name != "api" || rec.User != "bob@example.com" ||
		rec.Fingerprint != "SHA256:bob" || rec.Session != "3f1c0a9e.1" || rec.Error != "read-only: this key has no pyroll-write" {
		t.Errorf("refusal record %+v", rec)
	}
}
