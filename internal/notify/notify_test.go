package notify

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
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
