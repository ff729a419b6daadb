package sshconsole

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/pyroll/kubectl-pyroll/internal/jumphost"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/app"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// since is what was written after the first n bytes, and the length now.
func (o *output) since(n int) (string, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.buf.Bytes()
	return string(b[min(n, len(b)):]), len(b)
}

type console struct {
	t *testing.T
	// testPanic is the console's Options.TestPanic (set before the session opens);
	// crashes gets what Crashed was told, errOut what the session's stderr received.
	testPanic string
	crashes   chan *app.PanicError
	errOut    *output
	sess      *gossh.Session
	in        io.WriteCloser
	out       *output
	mark      int
	envs      chan []string
	close     func()
}

// startConsole serves the real console (without a cluster: a snapshot of one rollout)
// over a real SSH connection, with a pty of w x h, and returns the client's session.
func startConsole(t *testing.T, w, h int, env map[string]string) *console {
	t.Helper()
	return startConsoleWith(t, w, h, env, "")
}

func startConsoleWith(t *testing.T, w, h int, env map[string]string, testPanic string) *console {
	t.Helper()
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	user, _ := gossh.NewSignerFromKey(priv)
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, append([]byte(`pyroll-user="alice" `), gossh.MarshalAuthorizedKey(user.PublicKey())...), 0o600); err != nil {
		t.Fatal(err)
	}
	host, _, err := jumphost.HostKey(filepath.Join(dir, "host"))
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, out: &output{}, errOut: &output{}, envs: make(chan []string, 1), testPanic: testPanic, crashes: make(chan *app.PanicError, 1)}
	open := func(s *jumphost.Session) (app.Options, error) {
		c.envs <- s.Env
		snaps := make(chan rollout.Snapshot, 1)
		snaps <- rollout.Snapshot{Synced: true, At: time.Now(), Conn: rollout.Connection{State: rollout.ConnLive},
			Rollouts: []rollout.Rollout{{Kind: "Deployment", Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseProgressing}}}
		return app.Options{Styles: styles.New(styles.Options{}), Context: "test", Namespace: "shop", Snapshots: snaps, Now: time.Now(), User: s.Identity.User, TestPanic: c.testPanic}, nil
	}
	crashed := func(s *jumphost.Session, err *app.PanicError) string {
		c.crashes <- err
		return "pyroll: the console stopped on an internal error (test)"
	}
	server, err := jumphost.New(jumphost.Config{AuthorizedKeys: keys, HostKey: host, Console: Middleware(open, crashed), Audit: jumphost.NewAudit(io.Discard, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Serve(ln) }()
	client, err := gossh.Dial("tcp", ln.Addr().String(), &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(user)}, HostKeyCallback: gossh.FixedHostKey(host.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	c.close = func() { client.Close(); server.Close() }
	t.Cleanup(c.close)
	if c.sess, err = client.NewSession(); err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if err := c.sess.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
	}
	c.sess.Stdout, c.sess.Stderr = c.out, c.errOut
	if c.in, err = c.sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.sess.RequestPty("xterm-256color", h, w, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor waits until what the console wrote since the last wait holds cond.
func (c *console) waitFor(what string, cond func(string) bool) {
	c.t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		s, n := c.out.since(c.mark)
		last = s
		if cond(s) {
			c.mark = n
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		c.t.Fatalf("%s: not seen in 20s; the console wrote %q", what, last)
	}
}

func (c *console) quit() {
	c.t.Helper()
	if _, err := c.in.Write([]byte("q")); err != nil {
		c.t.Fatal(err)
	}
	if err := c.sess.Wait(); err != nil {
		c.t.Fatalf("the session ended with %v", err)
	}
}

func has(parts ...string) func(string) bool {
	return func(s string) bool {
		for _, p := range parts {
			if !strings.Contains(s, p) {
				return false
			}
		}
		return true
	}
}

// Window sizes come from the client and are not trusted: 0x0 and 65535x65535 neither
// panic nor allocate without bound; a sane size after them draws again.
func TestUntrustedWindowSizes(t *testing.T) {
	c := startConsole(t, 0, 0, nil)
	// The first bytes (the program setting the terminal up) say the console runs: from
	// then on nothing reads the session's pty record, which a window-change rewrites
	// unlocked (charm.land/ssh v0.4.3; a data race if the two meet).
	c.waitFor("the console started", func(s string) bool { return s != "" })
	if err := c.sess.WindowChange(24, 80); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the list at 80x24", has("orders-api", "alice"))

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, size := range [][2]int{{65535, 65535}, {0, 0}, {65535, 1}, {1, 65535}, {4000, 200}} {
		if err := c.sess.WindowChange(size[1], size[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the list again at 100x30", has("orders-api"))
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap after the huge sizes: %+d KB", grown>>10)
	if grown > 64<<20 {
		t.Errorf("the heap grew by %d MB through the huge sizes", grown>>20)
	}
	c.quit()
}

func TestHugeInitialWindowIsClamped(t *testing.T) {
	c := startConsole(t, 65535, 65535, nil)
	c.waitFor("the list, drawn at the clamped size", has("orders-api"))
	c.quit()
}

// The terminal's environment is the client's: TERM from the pty request, NO_COLOR if the
// client sends it; nothing of the server's.
func TestTheSessionsEnvironmentOnly(t *testing.T) {
	t.Setenv("PYROLL_SERVER_SECRET", "x")
	c := startConsole(t, 80, 24, map[string]string{"NO_COLOR": "1"})
	env := strings.Join(<-c.envs, " ")
	if env != "NO_COLOR=1 TERM=xterm-256color" {
		t.Errorf("session environment: %q", env)
	}
	c.waitFor("the list", has("orders-api"))
	c.quit()
}

// A panic in a session's console quits it as q does: the terminal is given back, the
// server is told (with the stack), the user reads one line and no stack trace.
func TestAPanicInASessionEndsItWithOneLine(t *testing.T) {
	c := startConsoleWith(t, 80, 24, nil, "update")
	c.waitFor("the list", has("orders-api"))
	if _, err := c.in.Write([]byte(app.TestPanicKey)); err != nil {
		t.Fatal(err)
	}
	var crash *app.PanicError
	select {
	case crash = <-c.crashes:
	case <-time.After(20 * time.Second):
		t.Fatal("the server was not told of the panic")
	}
	if crash.Where != "Update" || !strings.Contains(string(crash.Stack), "goroutine") {
		t.Errorf("the server was told %q with stack %q", crash.Where, crash.Stack)
	}
	_ = c.sess.Wait()
	errOut, _ := c.errOut.since(0)
	out, _ := c.out.since(0)
	if !strings.Contains(errOut, "pyroll: the console stopped on an internal error (test)") {
		t.Errorf("the session's stderr: %q", errOut)
	}
	for _, leak := range []string{"goroutine", "panic(", ".go:"} {
		if strings.Contains(out+errOut, leak) {
			t.Errorf("the session received %q: a stack trace", leak)
		}
	}
	if !strings.Contains(out, "\x1b[?1049l") {
		t.Errorf("the alternate screen was not left: %q", out)
	}
}
