package sandbox

import (
	"fmt"
	"os"
)

// auditPolicy logs one event per request the API server receives (stage RequestReceived,
// Metadata level: who, which verb, which resource, the user agent; never a body). Leases
// (kwok's and the controllers' heartbeats) and health checks are left out: they are most of
// an idle cluster's requests and no client of interest makes them. Cheap enough to be always
// on: a few hundred bytes per request, written by the API server to a local file. A write to
// a Deployment or an Argo Rollout is also logged when it completes (stage ResponseComplete):
// only that event names the impersonated user (serve's SSH sessions act as their key's
// user), which the API server learns after writing the RequestReceived one.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [ResponseStarted, Panic]
rules:
- level: None
  resources:
  - group: coordination.k8s.io
    resources: [leases]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
- level: Metadata
  verbs: [create, update, patch, delete]
  resources:
  - group: apps
    resources: [deployments]
  - group: argoproj.io
    resources: [rollouts, rollouts/status]
- level: Metadata
  omitStages: [ResponseComplete]
`

// auditArgs are the API server's audit flags: the policy above, a JSON line per request in
// logs/audit.log, written as the request arrives (blocking mode: once a client's request
// returned, its line is in the file).
func (s *Sandbox) auditArgs() ([]string, error) {
	policy := s.path("audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return nil, fmt.Errorf("write audit policy: %w", err)
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
// checks. Package auditlog reads it.
func (s *Sandbox) AuditLogPath() string { return s.path("logs", "audit.log") }
