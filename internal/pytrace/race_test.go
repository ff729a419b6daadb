//go:build race

package pytrace

// raceDetector is set under -race, which slows the 10 MiB tests several times over while they
// have no goroutines for it to check.
const raceDetector = true
