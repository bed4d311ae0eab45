package oauthproxy

import (
	"context"
	"sync"
)

// decodedClients remembers client records by their exact stored encoding.
// One sign-in reads its client's record four or five times (authorize,
// consent page, token, refresh) and every refresh reads it again; the bytes
// only change when the record is written, at most about once a day per
// client (touchClient). The record is still read from storage and opened
// every time, so a deleted or changed client is seen at once on every
// replica: only the JSON decoding of bytes already decoded once is saved
// (issue 16).
//
// Registrations are anonymous, so it is bounded: at most maxDecodedClients
// records of at most maxClientRecordLen bytes each (with their decoded
// copies, about 2 MiB); when full it starts over.
type decodedClients struct {
	mu sync.RWMutex
	m  map[string]clientRecord
}

const maxDecodedClients = 256

// get returns the record stored as b. Its slices are shared with the cache
// and with every other caller: nothing may modify them (nothing does; only
// LastUsedAt is ever set, on the caller's own copy).
func (c *decodedClients) get(b []byte) (clientRecord, bool) {
	c.mu.RLock()
	rec, ok := c.m[string(b)] // no allocation: the compiler looks up b in place
	c.mu.RUnlock()
	return rec, ok
}

func (c *decodedClients) put(b []byte, rec clientRecord) {
	if len(b) > maxClientRecordLen {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxDecodedClients {
		c.m = make(map[string]clientRecord, maxDecodedClients/4)
	}
	c.m[string(b)] = rec
}

// getClient loads the client record under key into rec, decoding only
// bytes it has not decoded before.
func (p *Proxy) getClient(ctx context.Context, key string, rec *clientRecord) error {
	s, ok := p.store.(viewer)
	if !ok {
		return p.getJSON(ctx, key, rec)
	}
	return s.View(ctx, key, func(b []byte) error {
		if cached, ok := p.decodedClients.get(b); ok {
			*rec = cached
			return nil
		}
		if err := decodeRecord(b, rec); err != nil {
			return err
		}
		p.decodedClients.put(b, *rec)
		return nil
	})
}
