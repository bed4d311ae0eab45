package httpx

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// ParseQuery must read every query exactly as url.ParseQuery does: the OAuth
// parameters, the duplicate check (RFC 6749 §3.1) and the refusals all rest on it.
var parseQueryCases = []string{
	"",
	"grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&code_verifier=x",
	"a=1&a=2&b=3",
	"a=1&a=2&a=3&a=4",
	"a&b=&=c&&=",
	"a=%zz&b=2",
	"a=1;b=2&c=3",
	"a%20b=c+d&e=%E2%82%AC",
	"x=%",
	"&&&",
	"k=v=w",
	"%41=%42",
	"a=1&A=2",
}

func TestParseQuery_MatchesNetURL(t *testing.T) {
	for _, q := range parseQueryCases {
		assertParsesLikeNetURL(t, q)
	}
	// Beyond the fast path's parameter count: url.ParseQuery itself.
	long := "p=1"
	for range maxFastFormParams + 5 {
		long += "&p=1"
	}
	assertParsesLikeNetURL(t, long)
}

func FuzzParseQuery(f *testing.F) {
	for _, q := range parseQueryCases {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) { assertParsesLikeNetURL(t, q) })
}

func assertParsesLikeNetURL(t *testing.T, q string) {
	t.Helper()
	want, wantErr := url.ParseQuery(q)
	got, gotErr := ParseQuery(q)
	require.Equal(t, want, got, "query %q", q)
	require.Equal(t, wantErr == nil, gotErr == nil, "query %q: %v / %v", q, wantErr, gotErr)
	if wantErr != nil {
		require.Equal(t, wantErr.Error(), gotErr.Error(), "query %q", q)
	}
}

// A value appended to after parsing must not change its neighbour: the
// one-value slices share one array.
func TestParseQuery_ValuesAreIndependent(t *testing.T) {
	v, err := ParseQuery("a=1&b=2")
	require.NoError(t, err)
	v["a"] = append(v["a"], "x")
	v.Add("a", "y")
	require.Equal(t, []string{"2"}, v["b"])
	require.Equal(t, []string{"1", "x", "y"}, v["a"])
}

func TestQuery_DropsMalformedPairs(t *testing.T) {
	u, err := url.Parse("https://example.test/cb?code=1&bad=%zz&state=s")
	require.NoError(t, err)
	require.Equal(t, u.Query(), Query(u))
}
