package storage_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// flowNamespace is one of the proxy's key families as the memory store sees
// it during sign-ins: its key shape, value size and lifetime.
type flowNamespace struct {
	key  func(i int) string
	size int
	ttl  time.Duration
}

// flowUUID is a UUID-shaped id (36 bytes), distinct per i and scattered, like
// uuid.NewString.
func flowUUID(i int) string {
	h := flowHash(i)
	return fmt.Sprintf("%x-%x-4%x-8%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// flowHashed is a hashedKey-shaped secret: 43 bytes of base64url SHA-256.
func flowHashed(i int) string {
	h := flowHash(i)
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func flowHash(i int) [32]byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	return sha256.Sum256(b[:])
}

// flowNamespaces are the eight families a sign-in touches, with the proxy's
// key shapes (records.go, grant_index.go, revocation.go).
var flowNamespaces = []flowNamespace{
	{func(i int) string { return "client:" + flowUUID(i) }, 320, 30 * 24 * time.Hour},
	{func(i int) string { return "txn:" + flowHashed(i) }, 420, 10 * time.Minute},
	{func(i int) string { return "code:" + flowHashed(i) }, 300, time.Minute},
	{func(i int) string { return "grant:" + flowUUID(i) }, 640, 30 * 24 * time.Hour},
	{func(i int) string { return "refresh:" + flowHashed(i) }, 160, 30 * 24 * time.Hour},
	{func(i int) string { return "grantsub:" + flowHashed(i/4) + ":" + flowUUID(i) }, 0, 60 * 24 * time.Hour},
	{func(i int) string { return "grantcli:" + flowHashed(i/16+1<<40) + ":" + flowUUID(i) }, 0, 60 * 24 * time.Hour},
	{func(i int) string { return "rotated:" + flowHashed(i+1<<41) }, 24, 30 * 24 * time.Hour},
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
	keys := make([][]string, len(flowNamespaces))
	values := make([][]byte, len(flowNamespaces))
	for n, ns := range flowNamespaces {
		values[n] = make([]byte, ns.size)
		keys[n] = make([]string, flowLive)
		for i := range keys[n] {
			keys[n][i] = ns.key(n*flowLive + i)
			if err := m.Save(ctx, keys[n][i], values[n], ns.ttl); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The transactions and codes the flows make and take: not in the store yet.
	pending := make([][]string, len(flowNamespaces))
	for _, n := range []int{nsTxn, nsCode} {
		pending[n] = make([]string, flowLive)
		for i := range pending[n] {
			pending[n][i] = flowNamespaces[n].key((len(flowNamespaces)+n)*flowLive + i)
		}
	}
	miss := "revoked:" + flowUUID(-1)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	save := func(n int, key string) { must(m.Save(ctx, key, values[n], flowNamespaces[n].ttl)) }
	get := func(key string) {
		_, err := m.Get(ctx, key)
		must(err)
	}
	take := func(key string) {
		_, err := m.Take(ctx, key)
		must(err)
	}
	longLived := []int{nsClient, nsGrant, nsRefresh, nsGrantSub, nsGrantCli, nsRotated}

	b.ReportAllocs()
	slot := 0
	for b.Loop() {
		// The oldest long-lived entries go; their slots take this flow's.
		for _, n := range longLived {
			must(m.Delete(ctx, keys[n][slot]))
		}
		old := (slot + 7919) % flowLive // some earlier flow's keys: cold
		client, txn, code := keys[nsClient][slot], pending[nsTxn][slot], pending[nsCode][slot]
		save(nsClient, client) // register
		get(client)            // authorize
		save(nsTxn, txn)       //
		get(client)            // consent page
		get(txn)               //
		take(txn)              // approve
		save(nsGrantSub, keys[nsGrantSub][slot])
		save(nsGrantCli, keys[nsGrantCli][slot])
		save(nsGrant, keys[nsGrant][slot])
		save(nsCode, code) // callback
		take(code)         // token
		get(client)
		save(nsRefresh, keys[nsRefresh][slot])
		get(keys[nsRefresh][old]) // a refresh of an older grant
		get(keys[nsGrant][old])
		if _, err := m.Get(ctx, miss); err == nil {
			b.Fatal("revoked marker found") // its revocation check
		}
		save(nsRotated, keys[nsRotated][slot])
		save(nsGrant, keys[nsGrant][old]) // saved again: new deadlines
		save(nsClient, keys[nsClient][old])
		save(nsRefresh, keys[nsRefresh][old]) // rotation, modelled as an overwrite
		slot = (slot + 1) % flowLive
	}
}
