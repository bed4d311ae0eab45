package gateway

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

// Limit is a ratelimit.Limit written as text: "RATE/PER" where PER is s, m,
// h or a Go duration ("10/30s"), optionally followed by " burst N". The
// empty string is no limit.
type Limit struct {
	ratelimit.Limit
}

// UnmarshalText parses the text form; YAML and the environment overlay use it.
func (l *Limit) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	*l = Limit{}
	if s == "" {
		return nil
	}
	spec, burst, hasBurst := strings.Cut(s, " burst ")
	rate, per, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return fmt.Errorf("rate limit %q is not RATE/PER (e.g. 30/m)", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(rate))
	if err != nil || n <= 0 {
		return fmt.Errorf("rate limit %q: the rate must be a positive integer", s)
	}
	var d time.Duration
	switch per = strings.TrimSpace(per); per {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return fmt.Errorf("rate limit %q: the period must be s, m, h or a positive duration", s)
		}
	}
	l.Rate, l.Per = n, d
	if hasBurst {
		if l.Burst, err = strconv.Atoi(strings.TrimSpace(burst)); err != nil || l.Burst <= 0 {
			return fmt.Errorf("rate limit %q: the burst must be a positive integer", s)
		}
	}
	return l.Validate()
}
