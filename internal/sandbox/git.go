package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The sandbox's Git server: bare repositories under <Dir>/git/repos, served over Git's smart
// HTTP protocol by Debian's `git http-backend` behind net/http/cgi, on 127.0.0.1, so Flux's
// source-controller clones them as it would any Git host. Tests commit to them with the git
// CLI, in a working clone of each (<Dir>/git/work), and push over the same HTTP.
//
// Every git run (the server's and the commits') ignores the user's and the system's Git
// configuration: a sandbox must not depend on who runs it, nor sign commits with their key.

// GitAuthor is the identity of the sandbox's commits.
const (
	GitAuthorName  = "pyroll-sandbox"
	GitAuthorEmail = "sandbox@pyroll.invalid"
)

// GitBranch is the branch every sandbox repository has, and the one commits go to.
const GitBranch = "main"

type gitServer struct {
	root, work string // bare repositories; working clones
	home       string // HOME of every git run: nothing of the user's
	url        string // http://127.0.0.1:PORT
	srv        *http.Server
	log        *os.File

	mu    sync.Mutex
	repos map[string]*GitRepo
}

// GitRepo is one repository of the sandbox's Git server.
type GitRepo struct {
	name string
	url  string
	work string
	env  []string

	mu sync.Mutex // one commit at a time: they share the working clone
}

var gitRepoName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// gitEnv is the environment of every git the sandbox runs: no global or system config, no
// prompt, and the sandbox's identity for commits.
func gitEnv(home string) []string {
	env := []string{
		"HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=" + GitAuthorName,
		"GIT_AUTHOR_EMAIL=" + GitAuthorEmail,
		"GIT_COMMITTER_NAME=" + GitAuthorName,
		"GIT_COMMITTER_EMAIL=" + GitAuthorEmail,
		// The repositories are ours, but a sandbox dir made by another user (root's tests in
		// a shared /tmp) would otherwise be refused as "dubious ownership".
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=safe.directory",
		"GIT_CONFIG_VALUE_0=*",
	}
	if path := os.Getenv("PATH"); path != "" {
		env = append(env, "PATH="+path)
	}
	return env
}

// GitRepo returns the sandbox's repository name (lower case letters, digits, '.', '_', '-'),
// creating it, empty, on first use; the first call starts the Git server. Its URL is what a
// Flux GitRepository points at; Commit puts files in it.
func (s *Sandbox) GitRepo(name string) (*GitRepo, error) {
	if !gitRepoName.MatchString(name) {
		return nil, fmt.Errorf("git repository name %q: want lower case letters, digits, '.', '_' or '-'", name)
	}
	g, err := s.gitServer()
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.repos[name]; ok {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := gitEnv(g.home)
	bare := filepath.Join(g.root, name+".git")
	work := filepath.Join(g.work, name)
	r := &GitRepo{name: name, url: g.url + "/" + name + ".git", work: work, env: env}
	steps := [][]string{
		{"init", "--quiet", "--bare", "--initial-branch=" + GitBranch, bare},
		// http-backend refuses pushes from anonymous users unless the repository allows them.
		{"-C", bare, "config", "http.receivepack", "true"},
		{"init", "--quiet", "--initial-branch=" + GitBranch, work},
		{"-C", work, "remote", "add", "origin", r.url},
	}
	for _, args := range steps {
		if _, err := runGit(ctx, env, args...); err != nil {
			return nil, fmt.Errorf("create git repository %s: %w", name, err)
		}
	}
	g.repos[name] = r
	return r, nil
}

// URL is the repository's smart-HTTP URL, http://127.0.0.1:PORT/NAME.git.
func (r *GitRepo) URL() string { return r.url }

// Name is the repository's name.
func (r *GitRepo) Name() string { return r.name }

// Commit writes files (path relative to the repository's root -> content) into the working
// clone, commits everything as the sandbox's author with message, pushes to GitBranch over
// HTTP, and returns the new commit's SHA. Files not named stay as they were. A commit that
// changes nothing is still made (a new SHA), so a test can always tell its commit apart.
func (r *GitRepo) Commit(files map[string]string, message string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for path, content := range files {
		clean := filepath.Clean(filepath.FromSlash(path))
		if filepath.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) || clean == ".git" || strings.HasPrefix(clean, ".git"+string(filepath.Separator)) {
			return "", fmt.Errorf("commit to %s: path %q is not a file inside the repository", r.name, path)
		}
		full := filepath.Join(r.work, clean)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", fmt.Errorf("commit to %s: %w", r.name, err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("commit to %s: %w", r.name, err)
		}
	}
	for _, args := range [][]string{
		{"-C", r.work, "add", "--all"},
		{"-C", r.work, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message},
		{"-C", r.work, "push", "--quiet", "origin", "HEAD:refs/heads/" + GitBranch},
	} {
		if _, err := runGit(ctx, r.env, args...); err != nil {
			return "", fmt.Errorf("commit to %s: %w", r.name, err)
		}
	}
	sha, err := runGit(ctx, r.env, "-C", r.work, "rev-parse", "HEAD")
	if err != nil {
		return "", fmt.Errorf("commit to %s: %w", r.name, err)
	}
	return strings.TrimSpace(sha), nil
}

func runGit(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, gitBin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// gitServer starts the Git server on first use.
func (s *Sandbox) gitServer() (*gitServer, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	if s.git != nil {
		return s.git, nil
	}
	if _, err := os.Stat(gitBin); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the sandbox's Git server needs %s: install it with `make deps` (apt-get install git)", gitBin)
	}
	g := &gitServer{
		root: s.path("git", "repos"), work: s.path("git", "work"), home: s.path("git", "home"),
		repos: map[string]*GitRepo{},
	}
	for _, dir := range []string{g.root, g.work, g.home, s.path("logs")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("git server: %w", err)
		}
	}
	logFile, err := os.OpenFile(s.path("logs", "git-http.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("git server log: %w", err)
	}
	// Port 0: the kernel picks a free one while we hold it, so no race with other programs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("git server: %w", err)
	}
	g.log = logFile
	g.url = "http://" + ln.Addr().String()
	backend := &cgi.Handler{
		Path: gitBin,
		Args: []string{"http-backend"},
		Dir:  g.root,
		Env: append(gitEnv(g.home),
			"GIT_PROJECT_ROOT="+g.root,
			// Serve every repository under the root, without a git-daemon-export-ok file each.
			"GIT_HTTP_EXPORT_ALL=1",
		),
		Stderr: logFile,
	}
	g.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			began := time.Now()
			backend.ServeHTTP(rec, r)
			fmt.Fprintf(logFile, "%s %s %s?%s %d %s %q\n", began.UTC().Format(time.RFC3339Nano), r.Method, r.URL.Path, r.URL.RawQuery,
				rec.status, time.Since(began).Round(time.Millisecond), r.UserAgent())
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = g.srv.Serve(ln) }()
	s.git = g
	s.logf("git server on %s (repositories in %s)", g.url, g.root)
	return g, nil
}

func (g *gitServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = g.srv.Shutdown(ctx)
	g.log.Close()
}

// statusRecorder remembers the status a handler answered, for the Git server's access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush passes the backend's flushes on: a clone streams its pack as git writes it.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
