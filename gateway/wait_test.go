package gateway_test

import "time"

// waitFor bounds polling for a state the gateway reaches on its own
// goroutines (a drain beginning); it is a deadline, not a measurement.
const (
	waitFor = 10 * time.Second
	tick    = 5 * time.Millisecond
)
