//go:build !race

package pytrace

const raceDetector = false
