package jumphost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
	clocktesting "k8s.io/utils/clock/testing"
)

// lockedBuffer is the audit log of a test: written by the server, read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) records(t *testing.T) []Record {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// fakeConsole stands for the console: it prints what the gate handed it and runs until
// q or the end of the session, each byte read being a key press.
func fakeConsole(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s := SessionOf(sess)
		fmt.Fprintf(sess, "console user=%s groups=%s writable=%v reason=%q target=%s/%s size=%dx%d env=%s id=%s\n",
			s.Identity.User, strings.Join(s.Identity.Groups, ","), s.Writable, s.ReadOnlyReason, s.Target.Kind, s.Target.Name, s.Width, s.Height, strings.Join(s.Env, ","), s.ID)
		quit := make(chan struct{})
		go func() {
			buf := make([]byte, 1)
			for {
				if _, err := sess.Read(buf); err != nil {
					return
				}
				s.Deadlines.KeyPressed()
				if buf[0] == 'q' {
					close(quit)
					return
				}
			}
		}()
		select {
		case <-quit:
		case <-s.Context.Done():
		}
		// What the console's end reads (a crash report does): still this session's record.
		end := SessionOf(sess)
		fmt.Fprintf(sess, "console end id=%s target=%s/%s\n", end.ID, end.Target.Kind, end.Target.Name)
		next(sess)
	}
}

type testServer struct {
	addr    string
	hostKey gossh.PublicKey
	keys    string
	audit   *lockedBuffer
	clock   *clocktesting.FakeClock
	server  *Server
}

func startServer(t *testing.T, cfg Config, keyLines ...string) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{keys: filepath.Join(dir, "authorized_keys"), audit: &lockedBuffer{}, clock: clocktesting.NewFakeClock(time.Now())}
	if err := os.WriteFile(ts.keys, []byte(strings.Join(keyLines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, _, err := HostKey(filepath.Join(dir, "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	ts.hostKey = host.PublicKey()
	cfg.AuthorizedKeys, cfg.HostKey, cfg.Audit, cfg.Clock = ts.keys, host, NewAudit(ts.audit, nil), ts.clock
	if cfg.Console == nil {
		cfg.Console = fakeConsole
	}
	ts.server, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	go func() { _ = ts.server.Serve(ln) }()
	t.Cleanup(func() { _ = ts.server.Close() })
	return ts
}

func (ts *testServer) dial(t *testing.T, key gossh.Signer) (*gossh.Client, error) {
	t.Helper()
	return gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: "anyone", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.FixedHostKey(ts.hostKey), Timeout: 10 * time.Second,
	})
}

// session runs one session: a pty of w x h unless w < 0, then the command (shell when ""),
// and returns what it printed on stdout and stderr and its exit status, once it ended
// (after typing input, if any).
func (ts *testServer) session(t *testing.T, key gossh.Signer, w, h int, command, input string) (string, int) {
	t.Helper()
	client, err := ts.dial(t, key)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out lockedBuffer
	sess.Stdout, sess.Stderr = &out, &out
	sess.Stdin = strings.NewReader(input)
	if w >= 0 {
		if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
	}
	if command == "" {
		err = sess.Shell()
	} else {
		err = sess.Start(command)
	}
	if err != nil {
		t.Fatal(err)
	}
	err = sess.Wait()
	code := 0
	var exit *gossh.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitStatus()
	case err != nil:
		t.Fatalf("session %q: %v", command, err)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	return out.buf.String(), code
}

func TestGateMapsKeysToIdentitiesAndRefusesTheRest(t *testing.T) {
	alice, aliceLine := newKey(t)
	bob, bobLine := newKey(t)
	stranger, _ := newKey(t)
	ts := startServer(t, Config{MaxSessions: 4, AllowWrite: true, Hint: "ssh -p 2222 jump"},
		`pyroll-user="alice@example.com",pyroll-groups="sre,oncall" `+aliceLine,
		`pyroll-user="bob@example.com",pyroll-write `+bobLine)

	out, code := ts.session(t, alice, 120, 40, "", "q")
	if code != 0 || !strings.Contains(out, `console user=alice@example.com groups=sre,oncall writable=false reason="read-only: this key has no pyroll-write" target=/ size=120x40 env=TERM=xterm-256color`) {
		t.Errorf("alice: exit %d\n%s", code, out)
	}
	out, code = ts.session(t, bob, 80, 24, "deployment/orders-api", "q")
	if code != 0 || !strings.Contains(out, `user=bob@example.com groups= writable=true reason="" target=Deployment/orders-api`) {
		t.Errorf("bob: exit %d\n%s", code, out)
	}
	if _, err := ts.dial(t, stranger); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("a stranger's key: %v; want refused", err)
	}
	for _, c := range []struct {
		name         string
		w            int
		command, msg string
	}{
		{"ssh -T", -1, "", "the console needs a terminal: connect without -T (ssh -p 2222 jump [ROLLOUT])"},
		{"ssh host id", -1, "id", `this host runs the rollout console only, not commands ("id" refused)`},
		{"ssh -t host 'rm -rf /'", 80, "rm -rf /", `"rm -rf /": give at most one rollout name`},
		{"ssh -t host 'Orders_API'", 80, "Orders_API", `"Orders_API" is not a rollout name`},
		{"ssh -t host 'pod/x'", 80, "pod/x", `unknown kind "pod"`},
	} {
		out, code := ts.session(t, alice, c.w, 24, c.command, "")
		if code != 1 || !strings.HasPrefix(out, "pyroll: ") || !strings.Contains(out, c.msg) || strings.Contains(out, "console user=") {
			t.Errorf("%s: exit %d, %q; want 1 and %q", c.name, code, out, c.msg)
		}
	}

	recs := ts.audit.records(t)
	var events []string
	for _, r := range recs {
		events = append(events, r.Event+":"+r.User+":"+r.Reason)
		if r.Event == "start" && (r.Fingerprint == "" || r.Remote == "" || !strings.HasPrefix(r.ClientVersion, "SSH-2.0-")) {
			t.Errorf("start record without key, address or client: %+v", r)
		}
	}
	want := []string{
		"start:alice@example.com:", "end:alice@example.com:quit",
		"start:bob@example.com:", "end:bob@example.com:quit",
		"refused::unknown key",
	}
	if got := strings.Join(events, "\n"); !strings.HasPrefix(got, strings.Join(want, "\n")) || strings.Count(got, "refused:alice@example.com:") != 5 {
		t.Errorf("audit:\n%s", got)
	}
}

func TestSubsystemsAndForwardingAreRefused(t *testing.T) {
	alice, aliceLine := newKey(t)
	ts := startServer(t, Config{}, `pyroll-user="alice" `+aliceLine)
	client, err := ts.dial(t, alice)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	if msg, err := io.ReadAll(stderr); err != nil || !strings.Contains(string(msg), `subsystem "sftp" refused: this host runs the rollout console only`) {
		t.Errorf("sftp: %v, %q", err, msg)
	}

	_, err = client.Dial("tcp", "127.0.0.1:6443")
	var open *gossh.OpenChannelError
	if !errors.As(err, &open) || open.Reason != gossh.Prohibited || !strings.Contains(open.Message, "no forwarding") {
		t.Errorf("port forwarding: %v; want administratively prohibited", err)
	}
	if _, err := client.Listen("tcp", "127.0.0.1:0"); err == nil {
		t.Errorf("remote forwarding accepted")
	}
}

func TestMaxSessions(t *testing.T) {
	alice, aliceLine := newKey(t)
	ts := startServer(t, Config{MaxSessions: 1}, `pyroll-user="alice" `+aliceLine)
	client, err := ts.dial(t, alice)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	first, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	firstOut, firstIn := &lockedBuffer{}, newPipe()
	first.Stdout, first.Stdin = firstOut, firstIn
	if err := first.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if err := first.Shell(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first session's console", func() bool { return ts.server.Sessions() == 1 })

	out, code := ts.session(t, alice, 80, 24, "", "")
	if code != 1 || !strings.Contains(out, "the jump host is full (1 sessions, --max-sessions)") {
		t.Errorf("second session: exit %d, %q", code, out)
	}
	firstIn.write("q")
	if err := first.Wait(); err != nil {
		t.Errorf("first session: %v", err)
	}
	waitFor(t, "the slot freed", func() bool { return ts.server.Sessions() == 0 })
	if out, code := ts.session(t, alice, 80, 24, "", "q"); code != 0 || !strings.Contains(out, "console user=alice") {
		t.Errorf("a session after the first ended: exit %d, %q", code, out)
	}
}

func TestIdleSessionIsClosedWithItsReason(t *testing.T) {
	alice, aliceLine := newKey(t)
	ts := startServer(t, Config{Idle: 2 * time.Second}, `pyroll-user="alice" `+aliceLine)
	done := make(chan string, 1)
	go func() {
		out, code := ts.session(t, alice, 80, 24, "", "")
		done <- fmt.Sprintf("%d %s", code, out)
	}()
	waitFor(t, "the session's idle timer", ts.clock.HasWaiters)
	ts.clock.Step(2 * time.Second)
	got := <-done
	if !strings.HasPrefix(got, "0 ") || !strings.Contains(got, "pyroll: closed after 2s without a key press (--idle 2s)") {
		t.Errorf("idle session: %q", got)
	}
	recs := ts.audit.records(t)
	if last := recs[len(recs)-1]; last.Event != "end" || !strings.Contains(last.Reason, "without a key press") {
		t.Errorf("last audit record: %+v", last)
	}
}

func TestShutdownTellsTheSessions(t *testing.T) {
	alice, aliceLine := newKey(t)
	ts := startServer(t, Config{}, `pyroll-user="alice" `+aliceLine)
	done := make(chan string, 1)
	go func() {
		out, _ := ts.session(t, alice, 80, 24, "", "")
		done <- out
	}()
	waitFor(t, "the session", func() bool { return ts.server.Sessions() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.server.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if out := <-done; !strings.Contains(out, "pyroll: closed: the jump host is shutting down") {
		t.Errorf("session at shutdown: %q", out)
	}
}

// pipe is a session's stdin the test types into.
type pipe struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func newPipe() *pipe {
	r, w := io.Pipe()
	return &pipe{r: r, w: w}
}

func (p *pipe) Read(b []byte) (int, error) { return p.r.Read(b) }
func (p *pipe) write(s string)             { _, _ = p.w.Write([]byte(s)) }

// A client may offer several keys: one in vain before the right one is no refusal, and the
// identity is the key that got in.
func TestTheKeyThatGotInIsTheIdentity(t *testing.T) {
	alice, aliceLine := newKey(t)
	stranger, _ := newKey(t)
	ts := startServer(t, Config{}, `pyroll-user="alice" `+aliceLine)
	client, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(stranger, alice)}, HostKeyCallback: gossh.FixedHostKey(ts.hostKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	waitFor(t, "the connection's records", func() bool { return len(ts.audit.records(t)) == 0 && ts.server.Sessions() == 0 })
	// Two strangers' keys and nothing else: one refusal naming both.
	other, _ := newKey(t)
	if _, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(stranger, other)}, HostKeyCallback: gossh.FixedHostKey(ts.hostKey)}); err == nil {
		t.Fatal("strangers got in")
	}
	waitFor(t, "one refusal", func() bool { return len(ts.audit.records(t)) == 1 })
	if r := ts.audit.records(t)[0]; r.Event != "refused" || !strings.Contains(r.Reason, "no authorized key among those offered") || strings.Count(r.Reason, "unknown key") != 2 {
		t.Errorf("refusal: %+v", r)
	}
}

// waitLog waits until the server's log holds cond.
func waitLog(t *testing.T, b *lockedBuffer, what string, cond func(string) bool) string {
	t.Helper()
	var s string
	waitFor(t, what, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		s = b.buf.String()
		return cond(s)
	})
	return s
}

// A from= list sshd would refuse refuses its line (its key does not get in, whatever the
// other entries allow), said once in the server's log with the line and why; the rest of
// the file still loads, and a line that goes bad later is said when a connection reads it.
func TestBadFromRefusesItsLineSaidOnce(t *testing.T) {
	alice, aliceLine := newKey(t)
	bob, bobLine := newKey(t)
	logs := &lockedBuffer{}
	ts := startServer(t, Config{Log: logs},
		`pyroll-user="bob",from="!192.168.1/24,*" `+bobLine,
		`pyroll-user="alice" `+aliceLine)
	said := `authorized_keys: line 1: from: pattern "!192.168.1/24" is not a CIDR block`
	waitLog(t, logs, "line 1 said", func(s string) bool { return strings.Contains(s, said) })

	if _, err := ts.dial(t, bob); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("bob's key, its from= unreadable: %v; want refused", err)
	}
	for range 2 {
		if out, code := ts.session(t, alice, 80, 24, "", "q"); code != 0 || !strings.Contains(out, "console user=alice") {
			t.Errorf("alice, the next line: exit %d, %q", code, out)
		}
	}
	if err := os.WriteFile(ts.keys, []byte(`pyroll-user="bob",from="!192.168.1/24,*" `+bobLine+"\n"+
		`pyroll-user="alice" `+aliceLine+"\n"+`pyroll-user="carol",from="10.1.2.3/8" `+bobLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := ts.session(t, alice, 80, 24, "", "q"); code != 0 {
		t.Errorf("alice after the file changed: exit %d, %q", code, out)
	}
	got := waitLog(t, logs, "line 3 said", func(s string) bool {
		return strings.Contains(s, "line 3: from: pattern \"10.1.2.3/8\" has address bits set")
	})
	if n := strings.Count(got, said); n != 1 {
		t.Errorf("line 1 said %d times; want once:\n%s", n, got)
	}
	if !strings.Contains(got, "(that key is refused)") {
		t.Errorf("the log does not say the key is refused:\n%s", got)
	}
}

// Two sessions over one connection (OpenSSH's ControlMaster) share the connection's
// ssh.Context: each keeps its own record all along (what its console reads at its end, as
// a crash report does), and its own id in the audit log, the connection's with the
// channel's number.
func TestTwoSessionsOnOneConnectionKeepTheirOwnRecord(t *testing.T) {
	alice, aliceLine := newKey(t)
	ts := startServer(t, Config{}, `pyroll-user="alice" `+aliceLine)
	client, err := ts.dial(t, alice)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	type running struct {
		sess *gossh.Session
		in   *pipe
		out  *lockedBuffer
	}
	open := func(command string) running {
		t.Helper()
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		r := running{sess: sess, in: newPipe(), out: &lockedBuffer{}}
		sess.Stdin, sess.Stdout, sess.Stderr = r.in, r.out, r.out
		if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		if err := sess.Start(command); err != nil {
			t.Fatal(err)
		}
		waitLog(t, r.out, command+": the console", func(s string) bool { return strings.Contains(s, "console user=alice") })
		return r
	}
	first := open("deployment/first")
	second := open("rollout/second")

	first.in.write("q")
	if err := first.sess.Wait(); err != nil {
		t.Errorf("first session: %v", err)
	}
	second.in.write("q")
	if err := second.sess.Wait(); err != nil {
		t.Errorf("second session: %v", err)
	}
	conn := shortID(hex.EncodeToString(client.SessionID()))
	for _, c := range []struct {
		r      running
		id, to string
	}{{first, conn + ".1", "Deployment/first"}, {second, conn + ".2", "Rollout/second"}} {
		c.r.out.mu.Lock()
		out := strings.ReplaceAll(c.r.out.buf.String(), "\r\n", "\n")
		c.r.out.mu.Unlock()
		if !strings.Contains(out, "target="+c.to+" ") || !strings.Contains(out, "id="+c.id+"\n") || !strings.Contains(out, "console end id="+c.id+" target="+c.to+"\n") {
			t.Errorf("session %s (%s) read another's record:\n%s", c.id, c.to, out)
		}
	}
	var got []string
	for _, r := range ts.audit.records(t) {
		got = append(got, r.Event+" "+r.Session+" "+r.Command)
	}
	want := []string{"start " + conn + ".1 deployment/first", "start " + conn + ".2 rollout/second", "end " + conn + ".1 deployment/first", "end " + conn + ".2 rollout/second"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The server's log of sessions shows what the client chose (its SSH user name, TERM,
// command, version) made safe: any authorized key, read-only ones too, could otherwise
// write an escape sequence to the terminal the operator reads the log in. It says which
// session, from where, which key and user, for how long, and how it ended.
func TestSessionLogShowsClientStringsMadeSafe(t *testing.T) {
	alice, aliceLine := newKey(t)
	logs := &lockedBuffer{}
	ts := startServer(t, Config{Log: logs}, `pyroll-user="alice@example.com",pyroll-groups="sre" `+aliceLine)
	hostile := "x\x1b]52;c;aGk=\a\u202e"
	client, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: hostile, Auth: []gossh.AuthMethod{gossh.PublicKeys(alice)}, HostKeyCallback: gossh.FixedHostKey(ts.hostKey),
		ClientVersion: "SSH-2.0-pyroll-test", // the handshake refuses a version with control characters
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	run := func(term, command, input string) {
		t.Helper()
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		sess.Stdin, sess.Stdout, sess.Stderr = strings.NewReader(input), io.Discard, io.Discard
		if err := sess.RequestPty(term, 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		if err := sess.Start(command); err != nil {
			t.Fatal(err)
		}
		_ = sess.Wait()
	}
	run("xterm\x1b]0;owned\a", "orders-api", "q")
	run("xterm", "orders-api\x1b[2J\u202e", "")

	conn := shortID(hex.EncodeToString(client.SessionID()))
	// Two lines a session; the second's end is written after the client saw its exit.
	got := waitLog(t, logs, "both sessions logged", func(s string) bool { return strings.Count(s, "\n") >= 4 })
	if strings.ContainsAny(got, "\x1b\a\u202e") {
		t.Errorf("the server's log carries a raw escape, BEL or bidi control:\n%q", got)
	}
	fp := gossh.FingerprintSHA256(alice.PublicKey())
	for _, want := range []string{
		"session " + conn + ".1 from 127.0.0.1:",
		`: open: key ` + fp + `, ssh user "x\x1b]52;c;aGk=\x07\u202e", command "orders-api", term "xterm\x1b]0;owned\x07" 80x24, client "SSH-2.0-pyroll-test"`,
		"session " + conn + `.1 from 127.0.0.1:`,
		`: end after 0s, exit 0, user "alice@example.com" groups "sre": quit`,
		"session " + conn + ".2 from 127.0.0.1:",
		`command "orders-api\x1b[2J\u202e", term "xterm" 80x24`,
		`: end after 0s, exit 1, user "alice@example.com" groups "sre": refused: "orders-api\x1b[2J\u202e" is not a rollout name`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the server's log lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 4 {
		t.Errorf("%d log lines; want 4 (open and end of two sessions):\n%s", n, got)
	}
}

// A server started without --allow-write makes every session read-only, a pyroll-write
// key's too: the key asks, the operator grants.
func TestWithoutAllowWriteEveryKeyIsReadOnly(t *testing.T) {
	bob, bobLine := newKey(t)
	ts := startServer(t, Config{MaxSessions: 4, Hint: "ssh -p 2222 jump"}, `pyroll-user="bob@example.com",pyroll-write `+bobLine)
	out, code := ts.session(t, bob, 80, 24, "", "q")
	if code != 0 || !strings.Contains(out, `writable=false reason="read-only: the jump host runs without --allow-write"`) {
		t.Errorf("bob on a server without --allow-write: exit %d\n%s", code, out)
	}
}
