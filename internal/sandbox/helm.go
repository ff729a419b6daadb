package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// HelmVersion is the Helm CLI hack/build-kube.sh builds (from tools/helm) into the bin dir.
const HelmVersion = "v4.3.2"

const helmBin = "helm"

// Helm runs the Helm CLI of the bin dir against the sandbox (the admin kubeconfig) with
// args, and returns its standard output. Helm's cache, configuration and data live in the
// sandbox dir: neither the user's repositories and plugins nor their kubeconfig are used.
// Helm needs no Options: any sandbox can install charts.
func (s *Sandbox) Helm(ctx context.Context, args ...string) (string, error) {
	bin := s.bin(helmBin)
	if _, err := os.Stat(bin); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no helm in %s: build it with `make tools` (hack/build-kube.sh)", s.opts.BinDir)
	}
	home := s.path("helm")
	cmd := exec.CommandContext(ctx, bin, append(args, "--kubeconfig="+s.Kubeconfig)...)
	cmd.Env = []string{
		"HOME=" + home,
		"HELM_CACHE_HOME=" + s.path("helm", "cache"),
		"HELM_CONFIG_HOME=" + s.path("helm", "config"),
		"HELM_DATA_HOME=" + s.path("helm", "data"),
		"PATH=" + os.Getenv("PATH"),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
