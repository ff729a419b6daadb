package notify

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var taken = time.Date(2026, 11, 29, 3, 12, 0, 0, time.UTC)

func evidence() incident.Evidence {
	build := func(sha, version, lock, image safetext.Text, digest string) provenance.Provenance {
		return provenance.Provenance{GitSHA: sha, Version: version, LockHash: lock, Python: "3.12.7", PipelineRun: "https://ci.example/run/" + version,
			Source: "https://github.com/acme/orders", Images: []provenance.Image{{Container: "app", Ref: image, Digests: []string{digest}}}}
	}
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseProgressing, Why: "1/4 pods updated",
		CanaryRevision: 2, StableRevision: 1,
		Revisions: []rollout.Revision{
			{Number: 2, Role: rollout.RoleCanary, Ready: 1, Desired: 1, Provenance: build("3f2a9c1b7e5d4c3b2a1f", "1.8.0", "sha256:7a6b5c4d", "ghcr.io/acme/orders:1.8.0", "sha256:aaaa")},
			{Number: 1, Role: rollout.RoleStable, Ready: 4, Desired: 4, Provenance: build("9b01d4e6a2c8f7e6d5c4", "1.7.3", "sha256:1f2e3d4c", "ghcr.io/acme/orders:1.7.3", "sha256:bbbb")},
		}}
	diff := provenance.Diff{CompareURL: "https://github.com/acme/orders/compare/9b01d4e6a2c8f7e6d5c4...3f2a9c1b7e5d4c3b2a1f"}
	return incident.Evidence{Context: "prod-eu", Rollout: r, Diff: &diff, FromRevision: 1, ToRevision: 2, Taken: taken, Version: "test"}
}

func decision() guard.Decision {
	return guard.Decision{Rollout: ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api"}, Act: guard.ActHalt,
		Canary: 2, Stable: 1, Reason: "guard: canary errors 5.0% > max 1.0% for 3 intervals",
		Judged: guard.Judged{Judgement: guard.Judgement{Verdict: guard.Breach, Why: "canary errors 5.0% > max 1.0%"}, Thresholds: guard.Thresholds{MaxErrorRate: 0.01, MaxP95: 300 * time.Millisecond}}}
}

// The document's schema is a contract with the receivers (README "Guardrail"): a change
// must be deliberate, so it is compared with a golden file.
func TestDocumentGolden(t *testing.T) {
	doc := NewDocument(decision(), Done, nil, evidence())
	doc.Report = "(the incident report: see internal/incident)" // its own tests cover it
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/halt.golden.json"
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got)+"\n" != string(want) {
		t.Errorf("document changed (go test -update to accept):\n%s", got)
	}
}

func TestDocumentCarriesBothBuildsAndTheReport(t *testing.T) {
	doc := NewDocument(decision(), Done, nil, evidence())
	for _, want := range []string{"halted", "shop/orders-api", "prod-eu", "3f2a9c1b7e5d", "9b01d4e6a2c8", "sha256:7a6b5c4d", "sha256:1f2e3d4c", "Python 3.12.7", "compare/9b01d4e"} {
		if !strings.Contains(doc.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, doc.Text)
		}
	}
	if doc.Canary.Revision != 2 || doc.Stable.Revision != 1 || doc.Canary.Images[0].Digests[0] != "sha256:aaaa" {
		t.Errorf("builds %+v %+v", doc.Canary, doc.Stable)
	}
	if !strings.Contains(doc.Report, "# Incident snapshot: shop/orders-api") {
		t.Errorf("report %q", doc.Report)
	}
	failed := NewDocument(decision(), Failed, errors.New("forbidden: cannot patch deployments in shop"), evidence())
	if failed.Outcome != Failed || !strings.Contains(failed.Text, "could not halt") || !strings.Contains(failed.Text, "forbidden") {
		t.Errorf("a failed action's text: %q", failed.Text)
	}
}

// The chat text is built from annotations anyone who may edit the Deployment writes: none
// of it may mention @channel, add a link or end a code span.
func TestTextEscapesChatMarkup(t *testing.T) {
	ev := evidence()
	rev := &ev.Rollout.Revisions[0]
	rev.Provenance.Version = "<!channel> & <https://evil.example|click>"
	rev.Provenance.Images[0].Ref = "ghcr.io/acme/orders:1.8.0` <!here> `"
	rev.Provenance.PipelineRun = "<@U024BE7LH>"
	failed := NewDocument(decision(), Failed, errors.New("forbidden: <!everyone>"), ev)
	for _, bad := range []string{"<!", "<http", "<@", "` <"} {
		if strings.Contains(failed.Text, bad) {
			t.Errorf("text carries chat markup %q from the cluster:\n%s", bad, failed.Text)
		}
	}
	for _, want := range []string{"version &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;", "image `ghcr.io/acme/orders:1.8.0' &lt;!here&gt; '`", "run &lt;@U024BE7LH&gt;", "forbidden: &lt;!everyone&gt;"} {
		if !strings.Contains(failed.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, failed.Text)
		}
	}
}

// A webhook that fails twice gets the document on the third attempt, once.
func TestDeliveryRetriesWithBackoff(t *testing.T) {
	var mu sync.Mutex
	var attempts int
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts <= 2 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
	}))
	defer srv.Close()
	var logged []string
	var logMu sync.Mutex
	d := &Deliverer{URLs: []string{srv.URL}, FirstDelay: time.Millisecond, Log: func(f string, a ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		logged = append(logged, f)
	}}
	d.Send(context.Background(), NewDocument(decision(), Done, nil, evidence()))
	d.Wait(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 || len(bodies) != 1 || !strings.Contains(bodies[0], `"kind":"PyrollGuardNotification"`) {
		t.Errorf("attempts %d, delivered %d: %v", attempts, len(bodies), bodies)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if len(logged) != 2 {
		t.Errorf("want the two failed attempts logged, got %q", logged)
	}
}

// A webhook that never answers 2xx is given up after Attempts, and says so.
func TestDeliveryGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer srv.Close()
	var mu sync.Mutex
	var logged []string
	d := &Deliverer{URLs: []string{srv.URL}, Attempts: 3, FirstDelay: time.Millisecond, Log: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, f)
	}}
	d.Send(context.Background(), NewDocument(decision(), Done, nil, evidence()))
	d.Wait(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 4 || !strings.Contains(logged[3], "given up") {
		t.Errorf("logged %q", logged)
	}
}

// logLines collects a Deliverer's log lines, formatted.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) log(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// A webhook that answers 302 did not receive the document: the redirect is not followed
// (it was, as a GET, and counted as delivered), and the attempt fails.
func TestDeliveryDoesNotFollowARedirect(t *testing.T) {
	var followed atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/services/T000/B000/XXXXSECRETTOKEN", http.StatusFound)
	}))
	defer srv.Close()
	var log logLines
	d := &Deliverer{URLs: []string{srv.URL + "/services/T000/B000/XXXXSECRETTOKEN"}, Client: &http.Client{}, Attempts: 2, FirstDelay: time.Millisecond, Log: log.log}
	d.Send(context.Background(), NewDocument(decision(), Done, nil, evidence()))
	d.Wait(context.Background())
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	lines := log.all()
	if len(lines) != 3 || !strings.Contains(lines[2], "given up") || !strings.Contains(lines[0], "HTTP 302: a redirect to "+target.URL+"/…, not followed") {
		t.Errorf("want two failed attempts and the end, each saying where the redirect pointed; logged %q", lines)
	}
	for _, line := range lines {
		if strings.Contains(line, "XXXXSECRETTOKEN") || strings.Contains(line, "T000") {
			t.Errorf("a log line carries the hook's token: %q", line)
		}
	}
}

// Failed deliveries are logged with the webhook's scheme, host and position, never its
// userinfo, path or query, whatever failed: an answer, a refused connection, a bad URL.
func TestDeliveryLogsNoSecret(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no_service for "+r.URL.RequestURI(), http.StatusInternalServerError)
	}))
	defer failing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	const secret = "//alice:s3cret@%s/services/T000/B000/XXXXSECRETTOKEN?token=qtoken"
	urls := []string{
		"http:" + fmt.Sprintf(secret, failing.Listener.Addr()),
		"http:" + fmt.Sprintf(secret, closed.Listener.Addr()),
		"http:" + fmt.Sprintf(secret, "h:%zz"),
	}
	var log logLines
	d := &Deliverer{URLs: urls, Attempts: 1, Log: log.log}
	d.Send(context.Background(), NewDocument(decision(), Done, nil, evidence()))
	d.Wait(context.Background())
	lines := log.all()
	if len(lines) != 6 {
		t.Errorf("want an attempt and an end per webhook, logged %q", lines)
	}
	for _, want := range []string{failing.Listener.Addr().String() + "/…#1: attempt 1 of 1 failed: HTTP 500: no_service for …",
		closed.Listener.Addr().String() + "/…#2: attempt 1 of 1 failed", "connection refused", "(URL #3, not shown"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no line says %q: %q", want, lines)
		}
	}
	for _, line := range lines {
		for _, s := range []string{"s3cret", "alice", "XXXXSECRETTOKEN", "T000", "qtoken"} {
			if strings.Contains(line, s) {
				t.Errorf("%q carries %q", line, s)
			}
		}
	}
	if names := d.Names(); names[0] != "http://"+failing.Listener.Addr().String()+"/…#1" || !strings.Contains(names[2], "#3") {
		t.Errorf("names %q", names)
	}
}
