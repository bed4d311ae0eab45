package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// childAddrs is the line the proxy's process prints once it serves.
type childAddrs struct {
	Proxy string `json:"proxy"`
	Floor string `json:"floor"`
}

// serverChild is the proxy's process: the proxy, with its default HTTP
// client, in front of the upstream at tokenURL, and the floor beside it. It
// prints where they listen on out and serves until in ends (the driver
// closes it, or exits).
func serverChild(tokenURL string, prof profiles, in io.Reader, out io.Writer) error {
	if _, err := loadtest.CheckLoopbackURL(tokenURL); err != nil {
		return fmt.Errorf("-server-child: %w", err)
	}
	stopProfiles, err := prof.start()
	if err != nil {
		return err
	}
	defer stopProfiles()
	srv, err := startServers(tokenURL)
	if err != nil {
		return err
	}
	defer srv.close()
	if err := json.NewEncoder(out).Encode(childAddrs{Proxy: srv.proxy.url, Floor: srv.floorURL}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, in)
	return nil
}

// servers are what the proxy's process serves: the proxy and its floor.
type servers struct {
	proxy    *proxyServer
	floor    *loadtest.Floor
	floorSrv *http.Server
	floorURL string
}

func startServers(tokenURL string) (*servers, error) {
	proxy, err := startProxy("127.0.0.1:0", tokenURL, nil)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		proxy.close()
		return nil, err
	}
	s := &servers{proxy: proxy, floor: loadtest.NewFloor(), floorURL: "http://" + ln.Addr().String()}
	s.floorSrv = &http.Server{Handler: s.floor, ReadHeaderTimeout: 10 * time.Second}
	go serveLabelled("floor", s.floorSrv, ln)
	return s, nil
}

func (s *servers) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.floorSrv.Shutdown(ctx)
	s.floor.Close()
	s.proxy.close()
}

// child is the driver's handle on the proxy's process, and the upstream it
// calls.
type child struct {
	proxyURL, floorURL, upstreamTokenURL string

	cmd      *exec.Cmd
	stdin    io.Closer
	upstream *http.Server
}

// childCommand makes the command that runs the proxy's process: this
// program again, with args.
func childCommand() func(args ...string) (*exec.Cmd, error) {
	return func(args ...string) (*exec.Cmd, error) {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		return exec.Command(exe, args...), nil
	}
}

// startChild serves up over loopback HTTP and starts the proxy's process in
// front of it.
func startChild(ctx context.Context, up *loadtest.Upstream, prof profiles, command func(args ...string) (*exec.Cmd, error)) (*child, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &child{upstreamTokenURL: "http://" + ln.Addr().String() + "/token"}
	c.upstream = &http.Server{Handler: up, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.upstream.Serve(ln) }()

	args := []string{"-server-child", c.upstreamTokenURL}
	if prof.cpu != "" {
		args = append(args, "-cpuprofile", prof.cpu)
	}
	if prof.mem != "" {
		args = append(args, "-memprofile", prof.mem)
	}
	if c.cmd, err = command(args...); err != nil {
		c.close()
		return nil, err
	}
	c.cmd.Stderr = os.Stderr
	stdin, err := c.cmd.StdinPipe()
	if err != nil {
		c.close()
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		c.close()
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		c.cmd = nil
		c.close()
		return nil, err
	}
	c.stdin = stdin
	line := make(chan []byte, 1)
	go func() {
		b, _ := bufio.NewReader(stdout).ReadBytes('\n')
		line <- b
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var addrs childAddrs
	select {
	case b := <-line:
		err = json.Unmarshal(b, &addrs)
	case <-time.After(30 * time.Second):
		err = errors.New("no answer in 30 s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil || addrs.Proxy == "" || addrs.Floor == "" {
		c.close()
		return nil, fmt.Errorf("starting the proxy's process: %v", err)
	}
	c.proxyURL, c.floorURL = addrs.Proxy, addrs.Floor
	return c, nil
}

// close ends the proxy's process (it exits when its stdin closes, writing its
// profiles) and the upstream.
func (c *child) close() {
	if c.cmd != nil {
		if c.stdin != nil {
			c.stdin.Close()
		}
		done := make(chan struct{})
		go func() { _ = c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = c.cmd.Process.Kill()
			<-done
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.upstream.Shutdown(ctx)
}
