package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// childEnv makes the test binary the proxy's process (see childForTest).
const childEnv = "OAUTHPROXY_LOAD_TEST_CHILD"

// TestMain fails the package if any test leaves a goroutine running. Started
// with childEnv set, the binary is the proxy's process instead.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if len(os.Args) != 3 || os.Args[1] != "-server-child" {
			fmt.Fprintln(os.Stderr, "want -server-child URL, got", os.Args[1:])
			os.Exit(2)
		}
		if err := serverChild(os.Args[2], profiles{}, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
