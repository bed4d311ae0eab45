package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds how long a started server may take to answer PING.
	startTimeout = 10 * time.Second
	// stopTimeout is how long Stop waits for a graceful shutdown before killing.
	stopTimeout = 5 * time.Second
	// portAttempts is how many free ports Start tries, in case another process
	// takes the port between choosing it and redis-server binding it.
	portAttempts = 5
)

// Server is a redis-server child process. Its methods are safe for concurrent use.
type Server struct {
	tb   testing.TB
	path string
	dir  string
	opts Options

	mu   sync.Mutex
	port int
	proc *process // nil while stopped
}

// process is one run of redis-server.
type process struct {
	cmd    *exec.Cmd
	output *syncBuffer   // stdout and stderr, shown when the server misbehaves
	exited chan struct{} // closed when cmd.Wait returns
}

// Addr returns the server's address, "127.0.0.1:port". It stays the same across
// Restart.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Dir returns the server's working directory, where persistent data lives.
func (s *Server) Dir() string { return s.dir }

// Stop shuts the server down gracefully (SIGTERM, which flushes persistent data)
// and waits for it to exit, killing it if it takes longer than a few seconds.
// Stopping a stopped server does nothing.
func (s *Server) Stop() { s.halt(syscall.SIGTERM) }

// Kill stops the server abruptly with SIGKILL, as a crash would, and waits for
// it to exit. With Options.Persistent, acknowledged writes survive (fsync always).
func (s *Server) Kill() { s.halt(syscall.SIGKILL) }

// Restart stops the server gracefully and starts it again on the same port and
// directory. With Options.Persistent the data survives.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.Start()
}

// Start starts a stopped server again on its port and directory; it fails the
// test if the server does not come up. Starting a running server does nothing.
func (s *Server) Start() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return
	}
	p, err := s.spawn(s.port)
	if err != nil {
		s.tb.Fatalf("redistest: restart on port %d: %v", s.port, err)
	}
	s.proc = p
}

// startOnFreePort starts the first run, retrying on a fresh port if the chosen
// one was taken in the meantime.
func (s *Server) startOnFreePort() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			s.tb.Fatalf("redistest: %v", err)
		}
		p, err := s.spawn(port)
		if err == nil {
			s.port, s.proc = port, p
			return
		}
		errs = append(errs, err)
	}
	s.tb.Fatalf("redistest: redis-server did not start: %v", errors.Join(errs...))
}

// spawn runs redis-server on port and waits until it answers PING. On failure the
// process is gone and the error carries its output. The caller holds s.mu.
func (s *Server) spawn(port int) (*process, error) {
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--daemonize", "no",
		"--logfile", "",
	}
	if s.opts.Persistent {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	args = append(args, s.opts.Args...)

	out := &syncBuffer{}
	cmd := exec.Command(s.path, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.path, err)
	}
	p := &process{cmd: cmd, output: out, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the exit status of a killed test server says nothing useful
		close(p.exited)
	}()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitReady(addr, p.exited); err != nil {
		p.kill()
		return nil, fmt.Errorf("port %d: %w\n%s", port, err, out.String())
	}
	return p, nil
}

// halt sends sig, waits for the exit (escalating to SIGKILL after stopTimeout),
// and leaves the server stopped.
func (s *Server) halt(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	p := s.proc
	s.proc = nil
	_ = p.cmd.Process.Signal(sig) // fails only if it already exited, which we wait for anyway
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.kill()
	}
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *process) kill() {
	_ = p.cmd.Process.Kill() // fails only if it already exited
	<-p.exited
}

// waitReady polls addr with PING until it answers PONG, the process exits, or
// startTimeout passes. A loading server answers -LOADING, so this also waits for
// persistent data to be read back.
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redis-server exited during startup")
		default:
		}
		if last = ping(addr); last == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %v: %w", startTimeout, last)
}

// ping sends one inline PING and expects +PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer that the process writes while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
