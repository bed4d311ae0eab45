package oauthproxy

import "context"

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
type decodedClients struct{ boundedCache[clientRecord] }

const maxDecodedClients = 256

func newDecodedClients() *decodedClients {
	return &decodedClients{boundedCache[clientRecord]{max: maxDecodedClients}}
}

// put keeps rec as the decoding of b. The record's slices are then shared
// with every caller that gets it: nothing may modify them (nothing does; only
// LastUsedAt is ever set, on the caller's own copy).
func (c *decodedClients) put(b []byte, rec clientRecord) {
	if len(b) <= maxClientRecordLen {
		c.boundedCache.put(string(b), rec)
	}
}

// getClient loads the client record under key into rec, decoding only
// bytes it has not decoded before.
func (p *Proxy) getClient(ctx context.Context, key string, rec *clientRecord) error {
	s, ok := p.store.(viewer)
	if !ok {
		return p.getJSON(ctx, key, rec)
	}
	return s.View(ctx, key, func(b []byte) error {
		if cached, ok := p.decodedClients.getBytes(b); ok {
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
