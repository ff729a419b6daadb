package auditlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func auditLine(stage, verb, user, agent, uri, resource, at string) string {
	ref := ""
	if resource != "" {
		ref = `,"objectRef":{"resource":"` + resource + `","namespace":"demo","apiVersion":"v1"}`
	}
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","stage":"` + stage + `","requestURI":"` + uri +
		`","verb":"` + verb + `","user":{"username":"` + user + `","groups":["system:masters"]},"userAgent":"` + agent + `"` + ref +
		`,"requestReceivedTimestamp":"` + at + `","stageTimestamp":"` + at + `"}`
}

func TestReadFiltersAndReadsRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	rotated := filepath.Join(dir, "audit-2026-11-23T10-00-00.000.log")
	old := auditLine("RequestReceived", "list", "me", "kubectl-pyroll/dev", "/api/v1/pods", "pods", "2026-11-23T09:59:00Z")
	early := auditLine("RequestReceived", "watch", "me", "kubectl-pyroll/dev", "/api/v1/pods?watch=true", "pods", "2026-11-23T10:00:01Z")
	if err := os.WriteFile(rotated, []byte(old+"\n"+early+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		auditLine("RequestReceived", "get", "me", "kubectl-pyroll/dev", "/version", "", "2026-11-23T10:00:00Z"),
		auditLine("ResponseComplete", "get", "me", "kubectl-pyroll/dev", "/version", "", "2026-11-23T10:00:00Z"),
		auditLine("RequestReceived", "list", "someone", "kubectl/v1.36", "/api/v1/pods", "pods", "2026-11-23T10:00:02Z"),
		auditLine("RequestReceived", "create", "me", "kubectl-pyroll/dev", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "selfsubjectaccessreviews", "2026-11-23T10:00:03Z"),
		`{"kind":"Event","stage":"RequestRec`, // a line still being written
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	got, err := Read(path, since, func(r Request) bool { return r.User == "me" })
	if err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, r := range got {
		verbs = append(verbs, r.Verb+" "+r.Resource)
	}
	if want := "get ,watch pods,create selfsubjectaccessreviews"; strings.Join(verbs, ",") != want {
		t.Errorf("requests = %q, want %q (oldest first, rotated file included, other users and stages left out)", strings.Join(verbs, ","), want)
	}
	if c := CountByVerb(got); c["watch"] != 1 || c["list"] != 0 {
		t.Errorf("CountByVerb = %v", c)
	}
	if got[1].UserAgent != "kubectl-pyroll/dev" || got[1].Namespace != "demo" || got[1].URI != "/api/v1/pods?watch=true" {
		t.Errorf("fields not read: %+v", got[1])
	}
}

func TestReadWithoutFileIsAnError(t *testing.T) {
	if _, err := Read(filepath.Join(t.TempDir(), "audit.log"), time.Time{}, nil); err == nil {
		t.Error("want an error for a missing audit log")
	}
}

func TestImpersonatedUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	// The API server names the impersonated user in the event of a later stage only.
	received := `{"kind":"Event","auditID":"a1","stage":"RequestReceived","verb":"patch","user":{"username":"pyroll-jump"},"objectRef":{"resource":"deployments","namespace":"shop","name":"orders-api"},"requestReceivedTimestamp":"2026-11-23T10:00:00Z"}`
	plain := auditLine("RequestReceived", "get", "me", "kubectl-pyroll/dev", "/version", "", "2026-11-23T10:00:01Z")
	completed := `{"kind":"Event","auditID":"a1","stage":"ResponseComplete","verb":"patch","user":{"username":"pyroll-jump"},"impersonatedUser":{"username":"bob@example.com","groups":["sre","system:authenticated"]},"objectRef":{"resource":"deployments","namespace":"shop","name":"orders-api"},"requestReceivedTimestamp":"2026-11-23T10:00:00Z"}`
	if err := os.WriteFile(path, []byte(received+"\n"+plain+"\n"+completed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].User != "pyroll-jump" || got[0].ImpersonatedUser != "bob@example.com" || got[1].ImpersonatedUser != "" {
		t.Errorf("requests: %+v", got)
	}
}
