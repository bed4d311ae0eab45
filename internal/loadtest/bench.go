package loadtest

import (
	"testing"
	"time"
)

// Measure runs op in b.Loop with allocations reported and adds the process CPU
// time per op as the cpu-ns/op metric: on a shared machine wall time mostly
// measures the neighbours, CPU time mostly measures op. CPU time spent with
// the timer stopped, which the caller adds to *paused, is left out.
func Measure(b *testing.B, paused *time.Duration, op func()) {
	b.ReportAllocs()
	n := 0
	start := CPUTime()
	for b.Loop() {
		op()
		n++
	}
	used := CPUTime() - start
	if paused != nil {
		used -= *paused
	}
	b.ReportMetric(float64(used)/float64(n), "cpu-ns/op")
}
