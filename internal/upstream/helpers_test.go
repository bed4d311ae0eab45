package upstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testCode looks like a real authorization code: long enough not to occur in upstream prose.
const testCode = "c0de-5f1b9a7e"

// seenRequest is what the fake token endpoint received.
type seenRequest struct {
	header http.Header
	body   string
	form   url.Values
}

// tokenServer starts a fake token endpoint that records each request and answers with
// status, contentType and body.
func tokenServer(t *testing.T, status int, contentType, body string) (*httptest.Server, <-chan seenRequest) {
	t.Helper()
	seen := make(chan seenRequest, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(raw))
		select {
		case seen <- seenRequest{header: r.Header.Clone(), body: string(raw), form: form}:
		default:
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func testClient(tokenURL string) *Client {
	return &Client{TokenURL: tokenURL, ClientID: "client-id", ClientSecret: "client-secret"}
}

func received(t *testing.T, seen <-chan seenRequest) seenRequest {
	t.Helper()
	select {
	case r := <-seen:
		return r
	default:
		require.FailNow(t, "the token endpoint received no request")
		return seenRequest{}
	}
}
