// Package version holds what the build stamps into the binary (via -ldflags -X).
package version

import "runtime"

// Set at build time by the Makefile.
var (
	Version = "dev"
	Commit  = "unknown"
)

// Info is what `kubectl pyroll version` reports.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the running binary's version information.
func Get() Info {
	return Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}
