package redirecturi

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := Parse(raw)
	require.NoError(t, err)
	return u
}

// mustURL parses raw with net/url only, skipping this package's rules.
func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
