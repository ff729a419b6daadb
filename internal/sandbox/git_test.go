package sandbox

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Git server needs no control plane: a repository made by GitRepo takes commits, which
// a clone over its smart-HTTP URL (as Flux's source-controller makes) then holds, with the
// sandbox's author, whatever the user's own Git configuration says.
func TestGitRepoCommitsCloneOverHTTP(t *testing.T) {
	// Skipped only without git: `make test` installs it first (make deps, hack/install-deps.sh),
	// so the unit run of make test (with -race) always executes this test.
	if _, err := os.Stat(gitBin); err != nil {
		t.Skipf("no %s: %v", gitBin, err)
	}
	s := &Sandbox{opts: Options{Dir: t.TempDir(), Log: io.Discard}}
	t.Cleanup(func() {
		if s.git != nil {
			s.git.close()
		}
	})
	// A global config that would sign commits or rename the author must not be read.
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = Someone Else\n[commit]\n\tgpgsign = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	repo, err := s.GitRepo("deploy")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.GitRepo("deploy"); err != nil || again != repo {
		t.Errorf("GitRepo twice: %p, %v; want the same repository %p", again, err, repo)
	}
	if !strings.HasPrefix(repo.URL(), "http://127.0.0.1:") || !strings.HasSuffix(repo.URL(), "/deploy.git") {
		t.Errorf("URL %q; want http://127.0.0.1:PORT/deploy.git", repo.URL())
	}
	first, err := repo.Commit(map[string]string{"apps/app.yaml": "kind: Deployment\n"}, "first")
	if err != nil {
		t.Fatal(err)
	}
	second, err := repo.Commit(map[string]string{"apps/app.yaml": "kind: Deployment # v2\n", "README": "hello\n"}, "second")
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 40 || len(second) != 40 || first == second {
		t.Fatalf("commits %q, %q; want two SHA-1s", first, second)
	}
	if _, err := repo.Commit(map[string]string{"../escape": "x"}, "bad"); err == nil {
		t.Error("a path outside the repository was accepted")
	}
	if _, err := s.GitRepo("Bad/Name"); err == nil {
		t.Error("a repository name with a slash was accepted")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := gitEnv(t.TempDir())
	clone := filepath.Join(t.TempDir(), "clone")
	if _, err := runGit(ctx, env, "clone", "--quiet", repo.URL(), clone); err != nil {
		t.Fatal(err)
	}
	head, err := runGit(ctx, env, "-C", clone, "log", "-1", "--format=%H %an <%ae> %G? %s", GitBranch)
	if err != nil {
		t.Fatal(err)
	}
	want := second + " " + GitAuthorName + " <" + GitAuthorEmail + "> N second"
	if strings.TrimSpace(head) != want {
		t.Errorf("clone's %s: %q; want %q", GitBranch, strings.TrimSpace(head), want)
	}
	data, err := os.ReadFile(filepath.Join(clone, "apps", "app.yaml"))
	if err != nil || string(data) != "kind: Deployment # v2\n" {
		t.Errorf("clone's apps/app.yaml: %q, %v", data, err)
	}
	logData, _ := os.ReadFile(filepath.Join(s.opts.Dir, "logs", "git-http.log"))
	if !strings.Contains(string(logData), "/deploy.git/git-upload-pack") || !strings.Contains(string(logData), "/deploy.git/git-receive-pack") {
		t.Errorf("git-http.log has no upload-pack and receive-pack requests:\n%s", logData)
	}
}
