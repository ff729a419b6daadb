//go:build race

package hostile

// RaceDetector is set under -race, whose instrumented allocations make byte counts
// meaningless as bounds.
const RaceDetector = true
