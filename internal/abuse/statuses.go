package abuse

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// kindStats counts the answers to one kind of hostile request.
type kindStats struct {
	kind       Kind
	sent       atomic.Int64
	statuses   [600]atomic.Int64
	netErrors  atomic.Int64
	unexpected atomic.Int64 // statuses outside Allowed and alwaysAllowed, 5xx but 503 temporarily_unavailable
	sample     sync.Once
	firstOdd   string // the first unexpected answer, for the report
}

func (s *kindStats) record(status int, body []byte) {
	s.statuses[status].Add(1)
	if s.expected(status, body) {
		return
	}
	s.unexpected.Add(1)
	s.sample.Do(func() {
		s.firstOdd = fmt.Sprintf("HTTP %d: %.200s", status, strings.Join(strings.Fields(string(body)), " "))
	})
}

func (s *kindStats) recordError(err error) {
	s.netErrors.Add(1)
	s.unexpected.Add(1)
	s.sample.Do(func() { s.firstOdd = err.Error() })
}

// expected: a status the kind may get; a 503 only as temporarily_unavailable
// (a quota full, S19), never another server error.
func (s *kindStats) expected(status int, body []byte) bool {
	if status == 503 {
		return strings.Contains(string(body), "temporarily_unavailable")
	}
	return slices.Contains(s.kind.Allowed, status) || slices.Contains(alwaysAllowed, status)
}

// KindReport is what one kind of hostile request got.
type KindReport struct {
	Kind       string
	Sent       int
	Statuses   map[int]int
	NetErrors  int
	Unexpected int
	FirstOdd   string
}

func (s *kindStats) report() KindReport {
	r := KindReport{Kind: s.kind.Name, Sent: int(s.sent.Load()), Statuses: map[int]int{},
		NetErrors: int(s.netErrors.Load()), Unexpected: int(s.unexpected.Load())}
	for code := range s.statuses {
		if n := s.statuses[code].Load(); n > 0 {
			r.Statuses[code] = int(n)
		}
	}
	if r.Unexpected > 0 {
		r.FirstOdd = s.firstOdd
	}
	return r
}

// String is "201×8334 400×12", statuses in order, then network errors.
func (r KindReport) String() string {
	codes := make([]int, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, 0, len(codes)+1)
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c, r.Statuses[c]))
	}
	if r.NetErrors > 0 {
		parts = append(parts, fmt.Sprintf("neterr×%d", r.NetErrors))
	}
	if len(parts) == 0 {
		return "none sent"
	}
	return strings.Join(parts, " ")
}
