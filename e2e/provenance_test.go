//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// history and diff on the demo's search-api show the git SHA and lock-hash change of its
// failing release; snapshot writes a report with the SHA of both revisions.
func TestHistoryDiffAndSnapshot(t *testing.T) {
	sb := sandboxtest.Get(t)
	stable, canary := demo.SearchV1, demo.SearchV2
	short := func(sha string) string { return sha[:7] }

	table, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "history", "search-api")
	if code != 0 {
		t.Fatalf("history: exit %d: %s", code, stderr)
	}
	for _, want := range []string{short(canary.GitSHA), short(stable.GitSHA), canary.LockHash[:13], stable.LockHash[:13], "canary", "stable", canary.Version} {
		if !strings.Contains(table, want) {
			t.Errorf("history lacks %q:\n%s", want, table)
		}
	}
	doc, _, _ := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "history", "search-api", "-o", "json")
	var history cli.HistoryDocument
	if err := json.Unmarshal([]byte(doc), &history); err != nil || len(history.Revisions) != 2 {
		t.Fatalf("history -o json: %v\n%s", err, doc)
	}
	if p := history.Revisions[0].Provenance; string(p.GitSHA) != canary.GitSHA || string(p.LockHash) != canary.LockHash || p.Digest() != canary.ImageDigest() {
		t.Errorf("newest revision's provenance %+v, want SHA %s, lock %s, digest %s", p, canary.GitSHA, canary.LockHash, canary.ImageDigest())
	}

	text, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "diff", "search-api")
	if code != 0 {
		t.Fatalf("diff: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"what changed from rev 1 to rev 2",
		"~ git SHA: " + stable.GitSHA + " → " + canary.GitSHA,
		"~ lock hash: " + stable.LockHash + " → " + canary.LockHash,
		"https://github.com/acme/search/compare/" + stable.GitSHA + "..." + canary.GitSHA,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("diff lacks %q:\n%s", want, text)
		}
	}
	doc, _, _ = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "diff", "search-api", "--from", "1", "--to", "2", "-o", "json")
	var diff cli.DiffDocument
	if err := json.Unmarshal([]byte(doc), &diff); err != nil {
		t.Fatalf("diff -o json: %v\n%s", err, doc)
	}
	fields := map[string]provenance.Change{}
	for _, c := range diff.Build {
		fields[string(c.Field)] = c
	}
	if c := fields["git SHA"]; string(c.From) != stable.GitSHA || string(c.To) != canary.GitSHA {
		t.Errorf("diff -o json git SHA change %+v", c)
	}
	if c := fields["lock hash"]; string(c.From) != stable.LockHash || string(c.To) != canary.LockHash {
		t.Errorf("diff -o json lock hash change %+v", c)
	}
	if _, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "diff", "search-api", "--from", "1", "--to", "9"); code == 0 || !strings.Contains(stderr, "has no revision 9 (it has 1, 2)") {
		t.Errorf("diff to a missing revision: exit %d, stderr %q", code, stderr)
	}

	dir := t.TempDir()
	out, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "snapshot", "search-api", "--dir", dir, "--prometheus-url", sb.PrometheusURL)
	if code != 0 {
		t.Fatalf("snapshot: exit %d: %s", code, stderr)
	}
	path := strings.TrimSpace(out)
	if filepath.Dir(path) != dir {
		t.Errorf("snapshot printed %q, want a file in %s", path, dir)
	}
	report, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Incident snapshot: demo/search-api", canary.GitSHA, stable.GitSHA, "ModuleNotFoundError: No module named 'orjson'", "## Metrics", "## Recent events"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("snapshot lacks %q:\n%s", want, report)
		}
	}
}

// l in the console, on the failing search-api, shows its crashing pod's log with the
// ModuleNotFoundError found in it; d shows what changed.
func TestConsoleLogsAndDiffKeys(t *testing.T) {
	sb := sandboxtest.Get(t)
	pane := startTmux(t, 100, 30)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n demo search-api")
	pane.key("Enter")
	pane.waitScreen("search-api's detail", containsAll("search-api", "PODS"))
	pane.key("l")
	pane.waitScreen("the crashing pod's log with its exception", func(s string) bool {
		lines := strings.Split(s, "\n")
		return len(lines) > 2 && strings.Contains(lines[1], "logs of search-api-") &&
			strings.Contains(lines[2], "ModuleNotFoundError: No module named 'orjson'") &&
			strings.Count(s, "ModuleNotFoundError: No module named 'orjson'") >= 2 // pinned, and the traceback's end in view
	})
	pane.key("Escape")
	pane.waitScreen("back on the detail", containsAll("REVISIONS", "PROVENANCE"))
	pane.key("d")
	pane.waitScreen("what changed", containsAll("what changed, rev 1 → 2", "~ lock hash: "+demo.SearchV1.LockHash+" → "+demo.SearchV2.LockHash))
}
