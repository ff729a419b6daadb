package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// HelmChart is a one-Deployment chart shipping a release: what `helm create` makes, less
// everything but the Deployment, with the labels Helm's own starter chart puts on it.
type HelmChart struct {
	Name       string // chart name (default: the release's Name)
	Version    string // chart version (default 0.1.0)
	AppVersion string // default: the release's Version
	Release    workload.Release
}

// Placeholders put into the Deployment before it is written as YAML, replaced by template
// actions after: the YAML writer would quote an action, and `{{ ... | quote }}` must not be.
var helmActions = map[string]string{
	"pyroll-helm-image":       `{{ .Values.image | quote }}`,
	"pyroll-helm-namespace":   `{{ .Release.Namespace | quote }}`,
	"pyroll-helm-chart":       `{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | quote }}`,
	"pyroll-helm-instance":    `{{ .Release.Name | quote }}`,
	"pyroll-helm-managed-by":  `{{ .Release.Service | quote }}`,
	"pyroll-helm-app-version": `{{ .Chart.AppVersion | quote }}`,
}

// Write writes the chart into a new folder under dir and returns the folder's path.
func (c HelmChart) Write(dir string) (string, error) {
	if c.Name == "" {
		c.Name = c.Release.Name
	}
	if c.Version == "" {
		c.Version = "0.1.0"
	}
	if c.AppVersion == "" {
		c.AppVersion = c.Release.Version
	}
	d := c.Release.Deployment()
	d.Namespace = "pyroll-helm-namespace"
	d.Labels["helm.sh/chart"] = "pyroll-helm-chart"
	d.Labels["app.kubernetes.io/instance"] = "pyroll-helm-instance"
	d.Labels["app.kubernetes.io/managed-by"] = "pyroll-helm-managed-by"
	d.Labels["app.kubernetes.io/version"] = "pyroll-helm-app-version"
	d.Spec.Template.Spec.Containers[0].Image = "pyroll-helm-image"
	manifest, err := deploymentYAML(d)
	if err != nil {
		return "", err
	}
	for placeholder, action := range helmActions {
		manifest = strings.ReplaceAll(manifest, placeholder, action)
	}
	root, err := os.MkdirTemp(dir, "chart-"+c.Name+"-")
	if err != nil {
		return "", fmt.Errorf("helm chart %s: %w", c.Name, err)
	}
	files := map[string]string{
		"Chart.yaml": fmt.Sprintf("apiVersion: v2\nname: %s\ndescription: The sample service %s, for the sandbox's Helm tests.\ntype: application\nversion: %q\nappVersion: %q\n",
			c.Name, c.Release.Name, c.Version, c.AppVersion),
		"values.yaml":               fmt.Sprintf("image: %q\n", c.Release.Image),
		"templates/deployment.yaml": manifest,
	}
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("helm chart %s: %w", c.Name, err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("helm chart %s: %w", c.Name, err)
		}
	}
	return root, nil
}

// HelmInstall writes the chart to a temporary folder and installs it as Helm release name in
// the chart's release namespace (created if needed), with the sandbox's helm CLI. Helm writes
// revision 1's Secret, sh.helm.release.v1.<name>.v1.
func HelmInstall(ctx context.Context, sb *sandbox.Sandbox, name string, chart HelmChart) error {
	if err := workload.EnsureNamespace(ctx, sb.Client(), chart.Release.Namespace); err != nil {
		return err
	}
	return helmChart(ctx, sb, "install", name, chart)
}

// HelmUpgrade upgrades Helm release name to the chart: the next revision, whose Secret Helm
// marks deployed and the previous one superseded.
func HelmUpgrade(ctx context.Context, sb *sandbox.Sandbox, name string, chart HelmChart) error {
	return helmChart(ctx, sb, "upgrade", name, chart)
}

func helmChart(ctx context.Context, sb *sandbox.Sandbox, verb, name string, chart HelmChart) error {
	tmp, err := os.MkdirTemp("", "pyroll-helm-")
	if err != nil {
		return fmt.Errorf("helm %s %s: %w", verb, name, err)
	}
	defer os.RemoveAll(tmp)
	dir, err := chart.Write(tmp)
	if err != nil {
		return err
	}
	if _, err := sb.Helm(ctx, verb, name, dir, "--namespace", chart.Release.Namespace); err != nil {
		return err
	}
	return nil
}

// HelmReleaseSecret is the name of the Secret in which Helm's storage keeps revision rev of
// release name.
func HelmReleaseSecret(name string, rev int) string {
	return fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, rev)
}
