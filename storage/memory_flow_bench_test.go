package storage_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// flowNamespace is one of the proxy's key families as the memory store sees
// it during sign-ins: its key shape, value size and lifetime.
type flowNamespace struct {
	key  func(dst []byte, i uint64) []byte // appends the key of the i-th entry
	size int
	ttl  time.Duration
}

// flowKey returns the i-th key of namespace n as a new string, made the
// moment it is used as the proxy makes its keys (so it is in cache, and the
// store must copy it to keep it).
func flowKey(buf *[]byte, n int, i int) string {
	*buf = flowNamespaces[n].key((*buf)[:0], uint64(n)<<32|uint64(i))
	return string(*buf)
}

// flowMix scrambles i (splitmix64), so consecutive entries' ids look random.
func flowMix(i uint64) uint64 {
	i += 0x9e3779b97f4a7c15
	i = (i ^ i>>30) * 0xbf58476d1ce4e5b9
	i = (i ^ i>>27) * 0x94d049bb133111eb
	return i ^ i>>31
}

// appendUUID appends a UUID-shaped id (36 bytes), distinct per i, like
// uuid.NewString.
func appendUUID(dst []byte, i uint64) []byte {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], flowMix(i))
	binary.LittleEndian.PutUint64(raw[8:], flowMix(^i))
	var h [32]byte
	hex.Encode(h[:], raw[:])
	dst = append(dst, h[0:8]...)
	dst = append(dst, '-')
	dst = append(dst, h[8:12]...)
	dst = append(dst, '-')
	dst = append(dst, h[12:16]...)
	dst = append(dst, '-')
	dst = append(dst, h[16:20]...)
	dst = append(dst, '-')
	return append(dst, h[20:32]...)
}

// appendHashed appends a hashedKey-shaped secret: 43 bytes of base64url, the
// length of an encoded SHA-256.
func appendHashed(dst []byte, i uint64) []byte {
	var raw [32]byte
	for w := range 4 {
		binary.LittleEndian.PutUint64(raw[8*w:], flowMix(i*4+uint64(w)))
	}
	return base64.RawURLEncoding.AppendEncode(dst, raw[:])
}

// flowNamespaces are the eight families a sign-in touches, with the proxy's
// key shapes (records.go, grant_index.go, revocation.go).
var flowNamespaces = []flowNamespace{
	{func(d []byte, i uint64) []byte { return appendUUID(append(d, "client:"...), i) }, 320, 30 * 24 * time.Hour},
	{func(d []byte, i uint64) []byte { return appendHashed(append(d, "txn:"...), i) }, 420, 10 * time.Minute},
	{func(d []byte, i uint64) []byte { return appendHashed(append(d, "code:"...), i) }, 300, time.Minute},
	{func(d []byte, i uint64) []byte { return appendUUID(append(d, "grant:"...), i) }, 640, 30 * 24 * time.Hour},
	{func(d []byte, i uint64) []byte { return appendHashed(append(d, "refresh:"...), i) }, 160, 30 * 24 * time.Hour},
	{func(d []byte, i uint64) []byte {
		return appendUUID(append(appendHashed(append(d, "grantsub:"...), i/4), ':'), i) // a user has several grants
	}, 0, 60 * 24 * time.Hour},
	{func(d []byte, i uint64) []byte {
		return appendUUID(append(appendHashed(append(d, "grantcli:"...), i/16), ':'), i) // a client has many
	}, 0, 60 * 24 * time.Hour},
	{func(d []byte, i uint64) []byte { return appendHashed(append(d, "rotated:"...), i) }, 24, 30 * 24 * time.Hour},
}

const (
	nsClient = iota
	nsTxn
	nsCode
	nsGrant
	nsRefresh
	nsGrantSub
	nsGrantCli
	nsRotated
)

// flowLive is the live entries per namespace: 8 × 25,000 = 200,000, the size
// of store the load tool's runs reach.
const flowLive = 25_000

// BenchmarkMemoryFlow replays, per op, the memory store's share of one
// sign-in (register → authorize → consent → callback → token → one refresh)
// against a store that already holds 200,000 live entries over eight
// namespaces: 11 saves (8 of new keys, 3 overwrites that move a deadline), 7
// reads (one a miss), 2 takes and 6 deletes. The deletes retire the oldest
// long-lived entries, whose slots the flow then fills with new ones, and the
// flow takes the transaction and code it saves, so the store stays the same
// size from op to op and every new key lands among cold ones, as in a
// long-running proxy.
func BenchmarkMemoryFlow(b *testing.B) {
	ctx := b.Context()
	m := storage.NewMemory()
	var buf []byte
	values := make([][]byte, len(flowNamespaces))
	for n, ns := range flowNamespaces {
		values[n] = make([]byte, ns.size)
		for i := range flowLive {
			if err := m.Save(ctx, flowKey(&buf, n, i), values[n], ns.ttl); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The transactions and codes the flows make and take are numbered after
	// the live ones: not in the store yet.
	const pending = flowLive
	miss := "revoked:" + string(appendUUID(nil, 1<<63))
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	save := func(n, i int) { must(m.Save(ctx, flowKey(&buf, n, i), values[n], flowNamespaces[n].ttl)) }
	get := func(n, i int) {
		_, err := m.Get(ctx, flowKey(&buf, n, i))
		must(err)
	}
	take := func(n, i int) {
		_, err := m.Take(ctx, flowKey(&buf, n, i))
		must(err)
	}
	longLived := []int{nsClient, nsGrant, nsRefresh, nsGrantSub, nsGrantCli, nsRotated}

	b.ReportAllocs()
	slot := 0
	for b.Loop() {
		// The oldest long-lived entries go; their slots take this flow's.
		for _, n := range longLived {
			must(m.Delete(ctx, flowKey(&buf, n, slot)))
		}
		old := (slot + 7919) % flowLive // some earlier flow's keys: cold
		save(nsClient, slot)            // register
		get(nsClient, slot)             // authorize
		save(nsTxn, pending+slot)       //
		get(nsClient, slot)             // consent page
		get(nsTxn, pending+slot)        //
		take(nsTxn, pending+slot)       // approve
		save(nsGrantSub, slot)          // callback
		save(nsGrantCli, slot)          //
		save(nsGrant, slot)             //
		save(nsCode, pending+slot)      //
		take(nsCode, pending+slot)      // token
		get(nsClient, slot)             //
		save(nsRefresh, slot)           //
		get(nsRefresh, old)             // a refresh of an older grant
		get(nsGrant, old)               //
		if _, err := m.Get(ctx, miss); err == nil {
			b.Fatal("revoked marker found") // its revocation check
		}
		save(nsRotated, slot) //
		save(nsGrant, old)    // saved again: new deadlines
		save(nsClient, old)   //
		save(nsRefresh, old)  // rotation, modelled as an overwrite
		slot = (slot + 1) % flowLive
	}
}
