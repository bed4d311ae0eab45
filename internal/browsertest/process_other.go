//go:build !linux

package browsertest

// process is unused outside Linux: there, chromedp's own shutdown is trusted.
type process struct{ pid int }

func processTree(int) []process { return nil }

func (process) alive() bool { return false }

func (process) kill() {}
