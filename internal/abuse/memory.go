package abuse

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Memory is the process's memory at one moment, after a full collection that
// also returns freed pages to the OS: what the proxy retains, not the garbage
// a burst left behind.
type Memory struct {
	HeapInuse uint64 // bytes in in-use heap spans (runtime.MemStats)
	HeapAlloc uint64 // bytes of live heap objects
	RSS       int64  // resident set (VmRSS), 0 where /proc is missing
}

// measureMemory collects garbage, returns it to the OS and reads the figures.
func measureMemory() Memory {
	// sync.Pool keeps its objects through one collection (the victim
	// cache), and encoding/json's and net/http's pools hold megabyte buffers
	// after this attack: two collections drop them, then the freed spans go
	// back to the OS.
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Memory{HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, RSS: procStatus("VmRSS")}
}

// currentRSS is the resident set now, garbage included: cheap enough to
// sample during the attack.
func currentRSS() int64 { return procStatus("VmRSS") }

// peakRSS is the largest resident set since the last resetPeakRSS (VmHWM).
func peakRSS() int64 { return procStatus("VmHWM") }

// resetPeakRSS makes VmHWM the current resident set (Linux 4.0+), so a later
// peakRSS is the peak of what follows.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// procStatus reads a "kB" field of /proc/self/status in bytes; 0 when the
// file or the field is missing (not Linux).
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
