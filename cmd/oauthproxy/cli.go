package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/oauthproxy-go/oauthproxy/gateway"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `usage:
  oauthproxy [run] [-config FILE]   serve the gateway (FILE: $OAUTHPROXY_CONFIG, else oauthproxy.yaml)
  oauthproxy check-config FILE      validate FILE with the environment; report every problem
  oauthproxy keys                   print fresh keys as environment lines
  oauthproxy --version              print the version
Secrets come only from the environment (NAME or NAME_FILE): see README.md.
`

// run is the command without the process: arguments, output and the
// environment come in, the exit code goes out.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	cmd := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "check-config" || args[0] == "keys") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "keys":
		if len(args) != 0 {
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
		if err := gateway.WriteKeys(stdout); err != nil {
			fmt.Fprintln(stderr, "oauthproxy:", err)
			return exitFailed
		}
		return exitOK
	case "check-config":
		if len(args) != 1 {
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
		return checkConfig(ctx, args[0], stdout, stderr, env)
	}
	fs := flag.NewFlagSet("oauthproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	defaultPath := "oauthproxy.yaml"
	if p, ok := env("OAUTHPROXY_CONFIG"); ok && p != "" {
		defaultPath = p
	}
	path := fs.String("config", defaultPath, "configuration file")
	version := fs.Bool("version", false, "print the version")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *version {
		fmt.Fprintln(stdout, "oauthproxy", versionString())
		return exitOK
	}
	if fs.NArg() != 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cfg, err := gateway.LoadConfig(*path, env)
	if err != nil {
		fmt.Fprintln(stderr, "oauthproxy:", err)
		return exitFailed
	}
	g, err := gateway.New(ctx, cfg, gateway.Options{Logger: gateway.NewLogger(stderr, cfg.LogLevel)})
	if err != nil {
		fmt.Fprintln(stderr, "oauthproxy:", err)
		return exitFailed
	}
	defer g.Close()
	if err := g.ListenAndServe(ctx); err != nil {
		fmt.Fprintln(stderr, "oauthproxy:", err)
		return exitFailed
	}
	return exitOK
}

func checkConfig(ctx context.Context, path string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	cfg, err := gateway.LoadConfig(path, env)
	if err == nil {
		err = cfg.Check(ctx, gateway.Options{})
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: invalid:\n%v\n", path, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return exitOK
}

// versionString is the module version go install recorded, with the VCS
// revision when built from a checkout.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += " (modified)"
		}
	}
	return v + " " + info.GoVersion
}
