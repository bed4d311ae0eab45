package oauthproxy

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templatePage is the page as html/template renders it.
func templatePage(t *testing.T, page *ConsentPage) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, consentTemplate.Execute(&buf, page))
	return buf.Bytes()
}

func sampleConsentPage() *ConsentPage {
	return &ConsentPage{
		TransactionID: "txn-0123456789abcdef", ClientID: "client-42", ClientName: "Bench Client",
		RedirectHost: "127.0.0.1:9", RedirectIsLoopback: true, Scopes: []string{"openid", "email", "x:y"},
		Permissions: []ScopePermission{
			{Scope: "openid", Description: "Know who you are", Known: true},
			{Scope: "email", Description: "See your email address", Known: true},
			{Scope: "x:y", Description: "x:y"},
		},
		ProviderName: "GitHub", Branding: Branding{ProductName: "Acme MCP", AccentColor: DefaultAccentColor},
		FormAction: "/oauth/consent", CSRFToken: "csrf-token", CSRFCookie: "cookie", Nonce: "0123456789abcdef",
	}
}

// S08: the consent page shows the client's name, the redirect host and the
// scopes HTML-escaped. The built-in page is rendered from checked skeletons
// (consent_fastpage.go); it must be byte for byte what html/template makes,
// for hostile values too, and the fast path must really be taken.
func TestSecurity_S08_ConsentPageSameBytesAsTemplate(t *testing.T) {
	hostile := []string{
		`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `a'b"c&d+e<f>g`, "nul\x00byte",
		"bad\xffutf8", "é\u202e \u2028 \ufdd0", "javascript:alert(1)", "Zqa00000qZ", "{{.ClientName}}", " lead space",
	}
	var pages []*ConsentPage
	base := sampleConsentPage()
	pages = append(pages, base)
	cimd := sampleConsentPage()
	cimd.ClientDomain, cimd.RememberFor, cimd.RedirectIsLoopback = "app.example.com", "30 days", false
	pages = append(pages, cimd)
	none := sampleConsentPage()
	none.Permissions, none.Scopes, none.ClientName = nil, nil, ""
	pages = append(pages, none)
	logo := sampleConsentPage()
	logo.Branding = Branding{ProductName: "Logo & Co", LogoURL: "https://cdn.example.com/logo.png?a=1&b=2", AccentColor: "#fde047"}
	pages = append(pages, logo)
	for _, h := range hostile {
		pg := sampleConsentPage()
		pg.ClientName, pg.ClientDomain, pg.RedirectHost, pg.RememberFor = h, h, h, h
		pg.ClientID, pg.TransactionID, pg.CSRFToken, pg.ProviderName = h, h, h, h
		pg.Permissions[0].Scope, pg.Permissions[1].Description, pg.Permissions[2].Scope = h, h, h
		pages = append(pages, pg)
	}

	var c consentPages
	for i, pg := range pages {
		got, ok := c.render(pg)
		require.True(t, ok, "the built-in page takes the fast path: page %d, %q", i, pg.ClientName)
		assert.Equal(t, string(templatePage(t, pg)), string(got), "client name %q", pg.ClientName)
	}
	got, _ := c.render(pages[len(pages)-1])
	assert.NotContains(t, string(got), "<script>", "the name is escaped")
}

// Random pages over an alphabet of characters that escape differently in
// different contexts: every one is rendered as html/template renders it.
func TestConsentFastPageRandomPages(t *testing.T) {
	alphabet := []string{"a", "Z", "q", "0", " ", "<", ">", "&", "'", `"`, "+", "=", "`", "/", ":", "\x00", "\t", "\n", "é", "\u2028", "\xff", "{", "}"}
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		var b []byte
		for range r.IntN(8) {
			b = append(b, alphabet[r.IntN(len(alphabet))]...)
		}
		return string(b)
	}
	var c consentPages
	for range 300 {
		pg := sampleConsentPage()
		pg.ClientName, pg.ClientDomain, pg.RedirectHost, pg.RememberFor = word(), word(), word(), word()
		pg.ClientID, pg.TransactionID, pg.CSRFToken, pg.ProviderName, pg.Nonce = word(), word(), word(), word(), word()
		pg.RedirectIsLoopback = r.IntN(2) == 0
		pg.Permissions = nil
		for range r.IntN(3) {
			pg.Permissions = append(pg.Permissions, ScopePermission{Scope: word(), Description: word(), Known: r.IntN(2) == 0})
		}
		got, ok := c.render(pg)
		if !ok { // past maxConsentSkeletons shapes: html/template renders it
			continue
		}
		require.Equal(t, string(templatePage(t, pg)), string(got))
	}
}

// Another branding is another skeleton; shapes past the cap are left to
// html/template.
func TestConsentFastPageFallsBack(t *testing.T) {
	var c consentPages
	pg := sampleConsentPage()
	_, ok := c.render(pg)
	require.True(t, ok)
	other := sampleConsentPage()
	other.Branding.ProductName = "Other"
	got, ok := c.render(other)
	require.True(t, ok)
	assert.Equal(t, string(templatePage(t, other)), string(got), "same shape, other branding")

	for i := range maxConsentSkeletons {
		pg := sampleConsentPage()
		pg.Branding.ProductName = "Product " + strconv.Itoa(i)
		c.render(pg)
	}
	assert.Len(t, c.m, maxConsentSkeletons)
	pg = sampleConsentPage()
	pg.ProviderName = ""
	_, ok = c.render(pg)
	assert.False(t, ok, "a new shape past the cap")
}

// A released page buffer serves the next page with nothing of the last one
// left in it.
func TestConsentFastPageReusesBuffers(t *testing.T) {
	var c consentPages
	long := sampleConsentPage()
	long.ClientName = strings.Repeat("A long name ", 40)
	got, ok := c.render(long)
	require.True(t, ok)
	require.Equal(t, string(templatePage(t, long)), string(got))
	c.release(got)
	short := sampleConsentPage()
	got, ok = c.render(short)
	require.True(t, ok)
	assert.Equal(t, string(templatePage(t, short)), string(got))
}
