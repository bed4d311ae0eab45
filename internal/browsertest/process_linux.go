package browsertest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// process is a pid with its start time, so a recycled pid is never mistaken
// for the browser's.
type process struct {
	pid   int
	start string
}

// stat reads a process's parent pid and start time from /proc/<pid>/stat.
func stat(pid int) (ppid int, start string, state byte, ok bool) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", 0, false
	}
	// "pid (comm) state ppid ... starttime(22nd field) ..."; comm may hold
	// spaces and parentheses, so split after the last ')'.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, "", 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[19], f[0][0], true
}

// processTree lists root and all its descendants.
func processTree(root int) []process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	starts := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, start, _, ok := stat(pid)
		if !ok {
			continue
		}
		children[ppid] = append(children[ppid], pid)
		starts[pid] = start
	}
	var out []process
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if start, ok := starts[pid]; ok {
			out = append(out, process{pid: pid, start: start})
		}
		queue = append(queue, children[pid]...)
	}
	return out
}

// alive reports whether the same process still runs (zombies do not count).
func (p process) alive() bool {
	_, start, state, ok := stat(p.pid)
	return ok && start == p.start && state != 'Z' && state != 'X'
}

func (p process) kill() {
	if p.alive() {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}
