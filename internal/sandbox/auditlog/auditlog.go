// Package auditlog reads the sandbox API server's audit log (sandbox.AuditLogPath): which
// client made which requests, for the end-to-end tests and hack/scalebench, which count
// LISTs and WATCHes from it.
package auditlog

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

// Request is one request the API server received, as its audit log records it.
type Request struct {
	Time time.Time
	Verb string // get, list, watch, create, update, patch, delete, ...
	User string
	// ImpersonatedUser is who User acted as (Impersonate-User), "" when nobody or not
	// known: the API server logs it only when the request completes (the sandbox's policy
	// keeps that stage for writes to Deployments and Rollouts), so keep sees it empty.
	ImpersonatedUser string
	UserAgent        string
	URI              string
	Resource         string // e.g. "pods", "deployments", "selfsubjectaccessreviews"; "" for a non-resource URL
	Subresource      string
	Namespace        string
}

type event struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
	} `json:"objectRef"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// Read returns the requests of the audit log at path (and its rotated files) received
// at or after since for which keep (nil keeps all) holds, oldest first.
func Read(path string, since time.Time, keep func(Request) bool) ([]Request, error) {
	ext := filepath.Ext(path)
	rotated, _ := filepath.Glob(strings.TrimSuffix(path, ext) + "-*" + ext)
	var out []Request
	for _, file := range append(rotated, path) {
		reqs, err := readFile(file, since, keep)
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

func readFile(path string, since time.Time, keep func(Request) bool) ([]Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Request
	kept := map[string]int{} // auditID -> index in out
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil {
			continue // a line being written as we read
		}
		if i, ok := kept[ev.AuditID]; ok && ev.Stage == "ResponseComplete" && ev.ImpersonatedUser != nil {
			out[i].ImpersonatedUser = ev.ImpersonatedUser.Username
		}
		if ev.Stage != "RequestReceived" || ev.RequestReceivedTimestamp.Before(since) {
			continue
		}
		r := Request{
			Time: ev.RequestReceivedTimestamp, Verb: ev.Verb, User: ev.User.Username,
			UserAgent: ev.UserAgent, URI: ev.RequestURI,
		}
		if ev.ImpersonatedUser != nil {
			r.ImpersonatedUser = ev.ImpersonatedUser.Username
		}
		if ev.ObjectRef != nil {
			r.Resource, r.Subresource, r.Namespace = ev.ObjectRef.Resource, ev.ObjectRef.Subresource, ev.ObjectRef.Namespace
		}
		if keep == nil || keep(r) {
			if ev.AuditID != "" {
				kept[ev.AuditID] = len(out)
			}
			out = append(out, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	return out, nil
}

// CountByVerb counts requests per verb ("list", "watch", ...).
func CountByVerb(reqs []Request) map[string]int {
	counts := map[string]int{}
	for _, r := range reqs {
		counts[r.Verb]++
	}
	return counts
}
