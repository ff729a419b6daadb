package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// auditPolicy logs one event per request the API server receives (stage RequestReceived,
// Metadata level: who, which verb, which resource, the user agent; never a body). Leases
// (kwok's and the controllers' heartbeats) and health checks are left out: they are most of
// an idle cluster's requests and no client of interest makes them. Cheap enough to be always
// on: a few hundred bytes per request, written by the API server to a local file.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [ResponseStarted, ResponseComplete, Panic]
rules:
- level: None
  resources:
  - group: coordination.k8s.io
    resources: [leases]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
- level: Metadata
`

// auditArgs are the API server's audit flags: the policy above, a JSON line per request in
// logs/audit.log, written as the request arrives (blocking mode: once a client's request
// returned, its line is in the file).
func (s *Sandbox) auditArgs() ([]string, error) {
	policy := s.path("audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return nil, err
	}
	maxSize := 200 // MB per file before rotation (the rotated files are read too)
	if s.opts.Scale {
		maxSize = 2000
	}
	return []string{
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + s.AuditLogPath(),
		"--audit-log-format=json",
		"--audit-log-mode=blocking",
		fmt.Sprintf("--audit-log-maxsize=%d", maxSize),
		"--audit-log-maxbackup=3",
	}, nil
}

// AuditLogPath is the API server's audit log: one JSON line (an audit.k8s.io/v1 Event at
// Metadata level, stage RequestReceived) per request it received, except leases and health
// checks. ReadAudit reads it.
func (s *Sandbox) AuditLogPath() string { return s.path("logs", "audit.log") }

// AuditRequest is one request the API server received, as its audit log records it.
type AuditRequest struct {
	Time        time.Time
	Verb        string // get, list, watch, create, update, patch, delete, ...
	User        string
	UserAgent   string
	URI         string
	Resource    string // e.g. "pods", "deployments", "selfsubjectaccessreviews"; "" for a non-resource URL
	Subresource string
	Namespace   string
}

type auditEvent struct {
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
	} `json:"objectRef"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// ReadAudit returns the requests of the audit log at path (and its rotated files) received
// at or after since for which keep (nil keeps all) holds, oldest first.
func ReadAudit(path string, since time.Time, keep func(AuditRequest) bool) ([]AuditRequest, error) {
	ext := filepath.Ext(path)
	rotated, _ := filepath.Glob(strings.TrimSuffix(path, ext) + "-*" + ext)
	var out []AuditRequest
	for _, file := range append(rotated, path) {
		reqs, err := readAuditFile(file, since, keep)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && file != path {
				continue // rotated away meanwhile
			}
			return nil, err
		}
		out = append(out, reqs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func readAuditFile(path string, since time.Time, keep func(AuditRequest) bool) ([]AuditRequest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []AuditRequest
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev auditEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			continue // a line being written as we read
		}
		if ev.Stage != "RequestReceived" || ev.RequestReceivedTimestamp.Before(since) {
			continue
		}
		r := AuditRequest{
			Time: ev.RequestReceivedTimestamp, Verb: ev.Verb, User: ev.User.Username,
			UserAgent: ev.UserAgent, URI: ev.RequestURI,
		}
		if ev.ObjectRef != nil {
			r.Resource, r.Subresource, r.Namespace = ev.ObjectRef.Resource, ev.ObjectRef.Subresource, ev.ObjectRef.Namespace
		}
		if keep == nil || keep(r) {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

// CountByVerb counts requests per verb ("list", "watch", ...).
func CountByVerb(reqs []AuditRequest) map[string]int {
	counts := map[string]int{}
	for _, r := range reqs {
		counts[r.Verb]++
	}
	return counts
}
