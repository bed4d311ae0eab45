package oauthproxy

import (
	"strconv"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
)

// The hand-written codecs of the records a sign-in writes (records_codec.go).
// Members are written in field order with segmentio's rules: omitempty
// leaves out an empty string, slice or raw message, a zero number and false;
// segmentio v0.5 knows no omitzero, so upstream.Token.Expiry is always written.
// Each decoder reads the members in that order, any of them absent (records
// stored before a field existed), into a fresh record that replaces the
// caller's only when all of it was read: every caller decodes into a zero
// value (decodeRecord), so absent members are zero either way.

var (
	_ fastRecord = (*transaction)(nil)
	_ fastRecord = (*codeRecord)(nil)
	_ fastRecord = (*grant)(nil)
	_ fastRecord = (*refreshRecord)(nil)
	_ fastRecord = (*usedMarker)(nil)
	_ fastRecord = (*clientRecord)(nil) // read once per client (getClient caches it), written at registration
)

func (t *transaction) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"client_id":`...)
	b = appendString(b, t.ClientID)
	b = append(b, `,"redirect_uri":`...)
	b = appendString(b, t.RedirectURI)
	if t.State != "" {
		b = append(b, `,"state":`...)
		b = appendString(b, t.State)
	}
	b = append(b, `,"code_challenge":`...)
	b = appendString(b, t.CodeChallenge)
	if len(t.Scopes) != 0 {
		b = append(b, `,"scopes":`...)
		b = appendStrings(b, t.Scopes)
	}
	b = append(b, `,"resource":`...)
	b = appendString(b, t.Resource)
	if t.UpstreamVerifier != "" {
		b = append(b, `,"upstream_verifier":`...)
		b = appendString(b, t.UpstreamVerifier)
	}
	b = append(b, `,"created_at":`...)
	b = appendTime(b, t.CreatedAt)
	if t.ConsentRememberable {
		b = append(b, `,"consent_rememberable":true`...)
	}
	return append(b, '}'), true
}

func (t *transaction) decodeJSON(b []byte) bool {
	var v transaction
	r := newRecordReader(b)
	r.open()
	if r.key("client_id") {
		v.ClientID = r.str()
	}
	if r.key("redirect_uri") {
		v.RedirectURI = r.str()
	}
	if r.key("state") {
		v.State = r.str()
	}
	if r.key("code_challenge") {
		v.CodeChallenge = r.str()
	}
	if r.key("scopes") {
		v.Scopes = r.strs()
	}
	if r.key("resource") {
		v.Resource = r.str()
	}
	if r.key("upstream_verifier") {
		v.UpstreamVerifier = r.str()
	}
	if r.key("created_at") {
		v.CreatedAt = r.time()
	}
	if r.key("consent_rememberable") {
		v.ConsentRememberable = r.trueLiteral()
	}
	if !r.close(0) || !r.done() {
		return false
	}
	adopt(nil, []*string{&v.ClientID, &v.RedirectURI, &v.State, &v.CodeChallenge, &v.Resource, &v.UpstreamVerifier}, v.Scopes)
	*t = v
	return true
}

func (c *codeRecord) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"client_id":`...)
	b = appendString(b, c.ClientID)
	b = append(b, `,"redirect_uri":`...)
	b = appendString(b, c.RedirectURI)
	b = append(b, `,"code_challenge":`...)
	b = appendString(b, c.CodeChallenge)
	if len(c.Scopes) != 0 {
		b = append(b, `,"scopes":`...)
		b = appendStrings(b, c.Scopes)
	}
	b = append(b, `,"resource":`...)
	b = appendString(b, c.Resource)
	if c.GrantID != "" {
		b = append(b, `,"grant_id":`...)
		b = appendString(b, c.GrantID)
	}
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, c.ExpiresAt)
	if c.UpstreamCode != "" {
		b = append(b, `,"upstream_code":`...)
		b = appendString(b, c.UpstreamCode)
	}
	return append(b, '}'), true
}

func (c *codeRecord) decodeJSON(b []byte) bool {
	var v codeRecord
	r := newRecordReader(b)
	r.open()
	if r.key("client_id") {
		v.ClientID = r.str()
	}
	if r.key("redirect_uri") {
		v.RedirectURI = r.str()
	}
	if r.key("code_challenge") {
		v.CodeChallenge = r.str()
	}
	if r.key("scopes") {
		v.Scopes = r.strs()
	}
	if r.key("resource") {
		v.Resource = r.str()
	}
	if r.key("grant_id") {
		v.GrantID = r.str()
	}
	if r.key("expires_at") {
		v.ExpiresAt = r.time()
	}
	if r.key("upstream_code") {
		v.UpstreamCode = r.str()
	}
	if !r.close(0) || !r.done() {
		return false
	}
	adopt(nil, []*string{&v.ClientID, &v.RedirectURI, &v.CodeChallenge, &v.Resource, &v.GrantID, &v.UpstreamCode}, v.Scopes)
	*c = v
	return true
}

// appendJSON leaves to segmentio a grant whose upstream token has Extra
// members (any JSON values) or whose claims segmentio would rewrite.
func (g *grant) appendJSON(b []byte) ([]byte, bool) {
	if len(g.Upstream.Extra) != 0 || (len(g.Claims) != 0 && !rawVerbatim(g.Claims)) {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = appendString(b, g.ID)
	b = append(b, `,"client_id":`...)
	b = appendString(b, g.ClientID)
	if g.Subject != "" {
		b = append(b, `,"sub":`...)
		b = appendString(b, g.Subject)
	}
	if len(g.Scopes) != 0 {
		b = append(b, `,"scopes":`...)
		b = appendStrings(b, g.Scopes)
	}
	b = append(b, `,"resource":`...)
	b = appendString(b, g.Resource)
	if len(g.Claims) != 0 {
		b = append(b, `,"claims":`...)
		b = append(b, g.Claims...)
	}
	b = append(b, `,"upstream":`...)
	b = appendUpstreamToken(b, &g.Upstream)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, g.CreatedAt)
	b = append(b, `,"refreshed_at":`...)
	b = appendTime(b, g.RefreshedAt)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, g.ExpiresAt)
	b = append(b, `,"indexed_until":`...)
	b = appendTime(b, g.IndexedUntil)
	return append(b, '}'), true
}

// appendUpstreamToken appends t, whose Extra is empty.
func appendUpstreamToken(b []byte, t *upstream.Token) []byte {
	b = append(b, `{"access_token":`...)
	b = appendString(b, t.AccessToken)
	if t.TokenType != "" {
		b = append(b, `,"token_type":`...)
		b = appendString(b, t.TokenType)
	}
	if t.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = appendString(b, t.RefreshToken)
	}
	if t.IDToken != "" {
		b = append(b, `,"id_token":`...)
		b = appendString(b, t.IDToken)
	}
	if t.Scope != "" {
		b = append(b, `,"scope":`...)
		b = appendString(b, t.Scope)
	}
	if t.ExpiresIn != 0 {
		b = append(b, `,"expires_in":`...)
		b = strconv.AppendInt(b, t.ExpiresIn, 10)
	}
	b = append(b, `,"expiry":`...)
	b = appendTime(b, t.Expiry)
	return append(b, '}')
}

func (g *grant) decodeJSON(b []byte) bool {
	var v grant
	r := newRecordReader(b)
	r.open()
	if r.key("id") {
		v.ID = r.str()
	}
	if r.key("client_id") {
		v.ClientID = r.str()
	}
	if r.key("sub") {
		v.Subject = r.str()
	}
	if r.key("scopes") {
		v.Scopes = r.strs()
	}
	if r.key("resource") {
		v.Resource = r.str()
	}
	if r.key("claims") {
		v.Claims = r.object()
	}
	if r.key("upstream") {
		readUpstreamToken(&r, &v.Upstream)
	}
	if r.key("created_at") {
		v.CreatedAt = r.time()
	}
	if r.key("refreshed_at") {
		v.RefreshedAt = r.time()
	}
	if r.key("expires_at") {
		v.ExpiresAt = r.time()
	}
	if r.key("indexed_until") {
		v.IndexedUntil = r.time()
	}
	if !r.close(0) || !r.done() {
		return false
	}
	u := &v.Upstream
	adopt(&v.Claims, []*string{&v.ID, &v.ClientID, &v.Subject, &v.Resource,
		&u.AccessToken, &u.TokenType, &u.RefreshToken, &u.IDToken, &u.Scope}, v.Scopes)
	*g = v
	return true
}

// readUpstreamToken reads the object appendUpstreamToken writes; one with
// extra members is left to segmentio.
func readUpstreamToken(r *recordReader, t *upstream.Token) {
	outer := r.members
	r.open()
	if r.key("access_token") {
		t.AccessToken = r.str()
	}
	if r.key("token_type") {
		t.TokenType = r.str()
	}
	if r.key("refresh_token") {
		t.RefreshToken = r.str()
	}
	if r.key("id_token") {
		t.IDToken = r.str()
	}
	if r.key("scope") {
		t.Scope = r.str()
	}
	if r.key("expires_in") {
		t.ExpiresIn = r.int64()
	}
	if r.key("expiry") {
		t.Expiry = r.time()
	}
	r.close(outer)
}

func (m *refreshRecord) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"grant_id":`...)
	b = appendString(b, m.GrantID)
	b = append(b, `,"client_id":`...)
	b = appendString(b, m.ClientID)
	if len(m.Scopes) != 0 {
		b = append(b, `,"scopes":`...)
		b = appendStrings(b, m.Scopes)
	}
	b = append(b, `,"resource":`...)
	b = appendString(b, m.Resource)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, m.ExpiresAt)
	return append(b, '}'), true
}

func (m *refreshRecord) decodeJSON(b []byte) bool {
	var v refreshRecord
	r := newRecordReader(b)
	r.open()
	if r.key("grant_id") {
		v.GrantID = r.str()
	}
	if r.key("client_id") {
		v.ClientID = r.str()
	}
	if r.key("scopes") {
		v.Scopes = r.strs()
	}
	if r.key("resource") {
		v.Resource = r.str()
	}
	if r.key("expires_at") {
		v.ExpiresAt = r.time()
	}
	if !r.close(0) || !r.done() {
		return false
	}
	adopt(nil, []*string{&v.GrantID, &v.ClientID, &v.Resource}, v.Scopes)
	*m = v
	return true
}

func (m *usedMarker) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"grant_id":`...)
	b = appendString(b, m.GrantID)
	b = append(b, `,"client_id":`...)
	b = appendString(b, m.ClientID)
	b = append(b, `,"used_at":`...)
	b = appendTime(b, m.UsedAt)
	if m.NextKey != "" {
		b = append(b, `,"next_key":`...)
		b = appendString(b, m.NextKey)
	}
	return append(b, '}'), true
}

func (m *usedMarker) decodeJSON(b []byte) bool {
	var v usedMarker
	r := newRecordReader(b)
	r.open()
	if r.key("grant_id") {
		v.GrantID = r.str()
	}
	if r.key("client_id") {
		v.ClientID = r.str()
	}
	if r.key("used_at") {
		v.UsedAt = r.time()
	}
	if r.key("next_key") {
		v.NextKey = r.str()
	}
	if !r.close(0) || !r.done() {
		return false
	}
	adopt(nil, []*string{&v.GrantID, &v.ClientID, &v.NextKey})
	*m = v
	return true
}

// appendJSON writes the registration lists always, as segmentio does: null
// for a nil list, [] for an empty one.
func (c *clientRecord) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"client_id":`...)
	b = appendString(b, c.ClientID)
	if c.SecretHash != "" {
		b = append(b, `,"secret_hash":`...)
		b = appendString(b, c.SecretHash)
	}
	if c.ClientName != "" {
		b = append(b, `,"client_name":`...)
		b = appendString(b, c.ClientName)
	}
	b = append(b, `,"redirect_uris":`...)
	b = appendList(b, c.RedirectURIs)
	b = append(b, `,"token_endpoint_auth_method":`...)
	b = appendString(b, c.TokenEndpointAuthMethod)
	b = append(b, `,"grant_types":`...)
	b = appendList(b, c.GrantTypes)
	b = append(b, `,"response_types":`...)
	b = appendList(b, c.ResponseTypes)
	if c.Scope != "" {
		b = append(b, `,"scope":`...)
		b = appendString(b, c.Scope)
	}
	if c.ClientURI != "" {
		b = append(b, `,"client_uri":`...)
		b = appendString(b, c.ClientURI)
	}
	if c.LogoURI != "" {
		b = append(b, `,"logo_uri":`...)
		b = appendString(b, c.LogoURI)
	}
	b = append(b, `,"issued_at":`...)
	b = appendTime(b, c.IssuedAt)
	b = append(b, `,"last_used_at":`...)
	b = appendTime(b, c.LastUsedAt)
	if c.MetadataDocument {
		b = append(b, `,"metadata_document":true`...)
	}
	return append(b, '}'), true
}

// appendList appends a []string that is not omitempty.
func appendList(b []byte, list []string) []byte {
	switch {
	case list == nil:
		return append(b, "null"...)
	case len(list) == 0:
		return append(b, "[]"...)
	}
	return appendStrings(b, list)
}

func (c *clientRecord) decodeJSON(b []byte) bool {
	var v clientRecord
	r := newRecordReader(b)
	r.open()
	if r.key("client_id") {
		v.ClientID = r.str()
	}
	if r.key("secret_hash") {
		v.SecretHash = r.str()
	}
	if r.key("client_name") {
		v.ClientName = r.str()
	}
	if r.key("redirect_uris") {
		v.RedirectURIs = r.list()
	}
	if r.key("token_endpoint_auth_method") {
		v.TokenEndpointAuthMethod = r.str()
	}
	if r.key("grant_types") {
		v.GrantTypes = r.list()
	}
	if r.key("response_types") {
		v.ResponseTypes = r.list()
	}
	if r.key("scope") {
		v.Scope = r.str()
	}
	if r.key("client_uri") {
		v.ClientURI = r.str()
	}
	if r.key("logo_uri") {
		v.LogoURI = r.str()
	}
	if r.key("issued_at") {
		v.IssuedAt = r.time()
	}
	if r.key("last_used_at") {
		v.LastUsedAt = r.time()
	}
	if r.key("metadata_document") {
		v.MetadataDocument = r.trueLiteral()
	}
	if !r.close(0) || !r.done() {
		return false
	}
	adopt(nil, []*string{&v.ClientID, &v.SecretHash, &v.ClientName, &v.TokenEndpointAuthMethod, &v.Scope, &v.ClientURI, &v.LogoURI},
		v.RedirectURIs, v.GrantTypes, v.ResponseTypes)
	*c = v
	return true
}
