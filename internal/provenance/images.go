package provenance

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

const digestPrefix = "sha256:"

// maxNamedPods bounds the unreadable-image-ID warnings: one per pod reads well
// for a few pods, but a broken runtime on a big ReplicaSet would flood the list.
const maxNamedPods = 3

// maxListedDigests bounds the digests quoted in one moved-tag warning.
const maxListedDigests = 3

// readImages pairs each template container with the digests its pods run, and
// warns when those digests show the revision is not reproducible.
func readImages(containers []corev1.Container, running []RunningImage) ([]Image, []safetext.Text) {
	if len(containers) == 0 {
		return nil, nil
	}
	// A slice, not a map: templates have one or two containers, and this runs for every
	// revision of every snapshot.
	digests := make([][]string, len(containers))
	containerIndex := func(name string) int {
		for i := range containers {
			if containers[i].Name == name {
				return i
			}
		}
		return -1
	}
	var unreadableByPod map[string]bool
	// Pods of one revision almost always report the same image ID (the watch cache even
	// shares the string): parse it once, not once per pod.
	var lastID, digest string
	var reported, ok, parsed bool
	for _, r := range running {
		if !parsed || r.ImageID != lastID {
			digest, reported, ok = digestOf(r.ImageID)
			lastID, parsed = r.ImageID, true
		}
		switch {
		case !reported:
			// Containers still being created have no image ID yet.
		case !ok:
			if unreadableByPod == nil {
				unreadableByPod = map[string]bool{}
			}
			unreadableByPod[r.Pod] = true
		default:
			if i := containerIndex(r.Container); i >= 0 && !slices.Contains(digests[i], digest) {
				digests[i] = append(digests[i], digest)
			}
		}
	}

	var warnings []safetext.Text
	images := make([]Image, 0, len(containers))
	for i, c := range containers {
		running := digests[i]
		slices.Sort(running)
		images = append(images, Image{Container: safetext.LineN(c.Name, valueLimit), Ref: safetext.LineN(c.Image, urlLimit), Digests: running})
		if len(running) > 1 && !pinsDigest(c.Image) {
			warnings = append(warnings, movedTagWarning(c.Image, running))
		}
	}
	return images, append(warnings, unreadableWarnings(unreadableByPod)...)
}

// digestOf extracts the digest from a container status image ID. reported is
// false for a blank ID; ok is false when the ID holds no well-formed digest.
func digestOf(imageID string) (digest string, reported, ok bool) {
	id := strings.TrimSpace(imageID)
	if id == "" {
		return "", false, false
	}
	if _, rest, found := strings.Cut(id, "://"); found {
		id = rest
	}
	if at := strings.LastIndexByte(id, '@'); at >= 0 {
		id = id[at+1:]
	}
	return id, true, isDigest(id)
}

func isDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, digestPrefix)
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// pinsDigest reports a reference such as repo@sha256:…, which cannot move, so
// pods disagreeing about its digest are not evidence of a moved tag.
func pinsDigest(ref string) bool {
	at := strings.LastIndexByte(ref, '@')
	return at >= 0 && strings.Contains(ref[at+1:], ":")
}

func movedTagWarning(ref string, digests []string) safetext.Text {
	listed := make([]string, 0, maxListedDigests+1)
	for i, d := range digests {
		if i == maxListedDigests {
			listed = append(listed, "…")
			break
		}
		listed = append(listed, shortDigest(d))
	}
	w := fmt.Sprintf("tag %s runs %s digests (%s): the tag moved; not reproducible",
		safetext.LineN(ref, valueLimit), countWord(len(digests)), strings.Join(listed, ", "))
	return safetext.LineN(w, urlLimit)
}

// shortDigest keeps 12 hex digits, the length container tools print, so that
// two digests in one warning are still told apart.
func shortDigest(d string) string {
	const keep = len(digestPrefix) + 12
	if len(d) <= keep {
		return d
	}
	return d[:keep] + "…"
}

func countWord(n int) string {
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	if n >= 0 && n < len(words) {
		return words[n]
	}
	return fmt.Sprint(n)
}

func unreadableWarnings(pods map[string]bool) []safetext.Text {
	names := make([]string, 0, len(pods))
	for name := range pods {
		names = append(names, name)
	}
	slices.Sort(names)
	named := names
	if len(names) > maxNamedPods+1 {
		named = names[:maxNamedPods]
	}
	var warnings []safetext.Text
	for _, name := range named {
		pod := "pod " + string(safetext.LineN(name, valueLimit))
		if name == "" {
			pod = "a pod"
		}
		warnings = append(warnings, safetext.LineN(pod+" reports an unreadable image ID", urlLimit))
	}
	if rest := len(names) - len(named); rest > 0 {
		warnings = append(warnings, safetext.Sprintf("%d more pods report an unreadable image ID", rest))
	}
	return warnings
}
