package cimd

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testClientID = "https://app.example.com/oauth/client.json"

func TestIsClientIDURL(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"https://app.example.com/oauth/client.json", true},
		{"HTTPS://app.example.com/client.json", true}, // looks like one; ValidateClientIDURL refuses it
		{"https://", false},
		{"http://app.example.com/client.json", false},
		{"3fa85f64-5717-4562-b3fc-2c963f66afa6", false},
		{"", false},
		{"https:app.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, IsClientIDURL(tt.in))
		})
	}
}

func TestParseDocument_Accepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *Document
	}{
		{
			name: "minimal",
			body: `{"client_id":"` + testClientID + `","redirect_uris":["http://127.0.0.1/cb"]}`,
			want: &Document{ClientID: testClientID, RedirectURIs: []string{"http://127.0.0.1/cb"}},
		},
		{
			name: "unknown members ignored, surrounding whitespace allowed",
			body: "\n {\"client_id\":\"" + testClientID + `","redirect_uris":["https://app.example.com/cb"],` +
				`"software_id":"x","jwks":{"keys":[]},"contacts":["a@example.com"],"Extra":1}` + " \n",
			want: &Document{ClientID: testClientID, RedirectURIs: []string{"https://app.example.com/cb"}},
		},
		{
			name: "all fields",
			body: `{"client_id":"` + testClientID + `","client_name":"Ünïcode App","client_uri":"https://app.example.com",` +
				`"logo_uri":"https://app.example.com/logo.png","redirect_uris":["cursor://anysphere.cursor-retrieval/oauth/callback"],` +
				`"token_endpoint_auth_method":"none","grant_types":["authorization_code"],"response_types":["code"],"scope":"read write"}`,
			want: &Document{
				ClientID: testClientID, ClientName: "Ünïcode App", ClientURI: "https://app.example.com",
				LogoURI: "https://app.example.com/logo.png", RedirectURIs: []string{"cursor://anysphere.cursor-retrieval/oauth/callback"},
				TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
				Scope: "read write",
			},
		},
		{
			name: "client_name of 200 characters",
			body: `{"client_id":"` + testClientID + `","redirect_uris":["http://127.0.0.1/cb"],"client_name":"` + strings.Repeat("é", 200) + `"}`,
			want: &Document{ClientID: testClientID, ClientName: strings.Repeat("é", 200), RedirectURIs: []string{"http://127.0.0.1/cb"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseDocument(testClientID, []byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.want, doc)
		})
	}
}

func TestParseDocument_Rejects(t *testing.T) {
	const ok = `"client_id":"` + testClientID + `","redirect_uris":["http://127.0.0.1/cb"]`
	tests := []struct {
		name, body, wantText string
	}{
		{"empty", ``, "not a single JSON object"},
		{"null", `null`, "not a single JSON object"},
		{"array", `[{` + ok + `}]`, "not a single JSON object"},
		{"string", `"x"`, "not a single JSON object"},
		{"truncated", `{` + ok, "not a single JSON object"},
		{"trailing object", `{` + ok + `}{}`, "data after the JSON object"},
		{"trailing garbage", `{` + ok + `}x`, "data after the JSON object"},
		{"duplicate client_id", `{` + ok + `,"client_id":"https://evil.example/x"}`, "repeats a member name"},
		{"duplicate unknown member", `{` + ok + `,"a":1,"a":2}`, "repeats a member name"},
		{"case variant of a known member", `{"client_id":"` + testClientID + `","Redirect_URIs":["http://127.0.0.1/cb"]}`, "redirect_uris is misspelled"},
		{"case variant of client_secret", `{` + ok + `,"CLIENT_SECRET":"x"}`, "client_secret is misspelled"},
		{"unicode fold of client_secret", `{` + ok + `,"client_ſecret":"x"}`, "client_secret is misspelled"},
		{"client_id wrong type", `{"client_id":1,"redirect_uris":["http://127.0.0.1/cb"]}`, "member client_id has the wrong type"},
		{"redirect_uris wrong type", `{"client_id":"` + testClientID + `","redirect_uris":"http://127.0.0.1/cb"}`, "member redirect_uris has the wrong type"},
		{"client_id differs by trailing slash", `{"client_id":"` + testClientID + `/","redirect_uris":["http://127.0.0.1/cb"]}`, "does not equal the URL"},
		{"client_id differs by case", `{"client_id":"` + strings.ToUpper(testClientID) + `","redirect_uris":["http://127.0.0.1/cb"]}`, "does not equal the URL"},
		{"redirect_uris null", `{"client_id":"` + testClientID + `","redirect_uris":null}`, "redirect_uris"},
		{"empty redirect URI", `{"client_id":"` + testClientID + `","redirect_uris":[""]}`, "invalid redirect URI"},
		{"http redirect URI off loopback", `{"client_id":"` + testClientID + `","redirect_uris":["http://evil.example/cb"]}`, "invalid redirect URI"},
		{"redirect URI with fragment", `{"client_id":"` + testClientID + `","redirect_uris":["https://app.example.com/cb#x"]}`, "invalid redirect URI"},
		{"client_secret null", `{` + ok + `,"client_secret":null}`, "client_secret"},
		{"client_secret empty", `{` + ok + `,"client_secret":""}`, "client_secret"},
		{"client_secret_expires_at", `{` + ok + `,"client_secret_expires_at":0}`, "client_secret"},
		{"client_secret_jwt", `{` + ok + `,"token_endpoint_auth_method":"client_secret_jwt"}`, "shared secret"},
		{"unknown auth method", `{` + ok + `,"token_endpoint_auth_method":"tls_client_auth"}`, "token_endpoint_auth_method is not supported"},
		{"implicit grant", `{` + ok + `,"grant_types":["implicit"]}`, "grant_types"},
		{"client_credentials grant", `{` + ok + `,"grant_types":["authorization_code","client_credentials"]}`, "grant_types"},
		{"token response type", `{` + ok + `,"response_types":["token"]}`, "response_types"},
		{"client_name too long", `{` + ok + `,"client_name":"` + strings.Repeat("a", 201) + `"}`, "client_name is longer than 200"},
		{"client_name control character", `{` + ok + `,"client_name":"a\u0000b"}`, "control characters"},
		{"client_name right-to-left override", `{` + ok + `,"client_name":"Acme\u202egnp.exe"}`, "bidirectional"},
		{"client_name isolate", `{` + ok + `,"client_name":"\u2067Acme\u2069"}`, "bidirectional"},
		{"client_name zero-width space", `{` + ok + `,"client_name":"Pay\u200bpal"}`, "invisible"},
		{"client_name byte order mark", "{" + ok + ",\"client_name\":\"\uFEFFAcme\"}", "invisible"},
		{"client_name line separator", `{` + ok + `,"client_name":"Acme\u2028Approved"}`, "line breaks"},
		{"client_name next line", `{` + ok + `,"client_name":"Acme\u0085Approved"}`, "line breaks"},
		{"client_uri javascript", `{` + ok + `,"client_uri":"javascript:alert(1)"}`, "client_uri must be an https URL"},
		{"client_uri http", `{` + ok + `,"client_uri":"http://app.example.com"}`, "client_uri must be an https URL"},
		{"logo_uri data", `{` + ok + `,"logo_uri":"data:image/png;base64,AAAA"}`, "logo_uri must be an https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseDocument(testClientID, []byte(tt.body))
			require.ErrorIs(t, err, ErrInvalidDocument)
			assert.Contains(t, err.Error(), tt.wantText)
			assert.Nil(t, doc)
			requireSafeErrorText(t, err)
		})
	}
}

func TestIsJSONMediaType(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON", true},
		{"application/oauth-client-metadata+json", true},
		{"", false},
		{"text/json", false},
		{"text/plain", false},
		{"text/html; charset=utf-8", false},
		{"application/jsonx", false},
		{"application/json;;", false},
		{"image/svg+json", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, isJSONMediaType(tt.in))
		})
	}
}

func TestFetch_StructuredJSONContentTypeAccepted(t *testing.T) {
	ts := newTestServer(t)
	ts.mux.HandleFunc(docPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/oauth-client-metadata+json")
		_, _ = w.Write([]byte(docJSON(t, ts.clientID(), nil)))
	})
	doc, err := ts.fetcher(true).Fetch(context.Background(), ts.clientID())
	require.NoError(t, err)
	assert.Equal(t, ts.clientID(), doc.ClientID)
}

func TestFetch_ContextCanceled(t *testing.T) {
	ts := newTestServer(t)
	ts.serveJSON(docPath, docJSON(t, ts.clientID(), nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ts.fetcher(true).Fetch(ctx, ts.clientID())
	require.ErrorIs(t, err, ErrFetch)
	requireSafeErrorText(t, err)
}
