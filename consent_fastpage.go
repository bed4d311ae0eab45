package oauthproxy

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"sync"
)

// The built-in consent page, rendered without html/template's per-request
// reflection. html/template spends ~45 µs and 150 allocations on the page,
// most of a sign-in's page cost (issue 16). Every value the built-in
// template shows from ConsentPage sits where html/template escapes it the
// same way (HTML text, RCDATA or a quoted attribute), so the page is the same
// static HTML around the same escaped values whenever the branches taken are
// the same. A consentSkeleton is that static HTML for one set of branches,
// made once by html/template itself from a page whose values are markers,
// and checked before use: a second set of markers must give the same HTML,
// and a probe of every ASCII character (and a few others) must come out
// escaped exactly as appendPageEscaped escapes it. A page the check does not
// cover goes through html/template as before.

// Slots of a skeleton: which ConsentPage value goes there.
const (
	slotTransactionID = iota
	slotClientID
	slotClientName
	slotClientDomain
	slotRedirectHost
	slotProviderName
	slotRememberFor
	slotCSRFToken
	slotNonce
	slotInitial // initial(ClientName), the avatar letter
	slotScope   // Permissions[i].Scope
	slotScopeDescription
	slotCount
)

// maxConsentSkeletons bounds the skeletons a proxy keeps. The branches depend
// on which values are empty and on each scope's Known flag, and scopes come
// from the configured set, so a deployment has a handful.
const maxConsentSkeletons = 64

// skeletonProbe is every ASCII character but the markers' own, with a few
// non-ASCII ones and an invalid byte, as the checked slot value.
var skeletonProbe = func() string {
	var b []byte
	for c := 0; c < 128; c++ {
		b = append(b, byte(c))
	}
	return string(b) + "é\u2028\ufdd0\ufffd\xff"
}()

// consentSkeletonTemplate is the built-in template with initial reporting
// which value it was given, so the avatar letter becomes a slot too.
var consentSkeletonTemplate = template.Must(template.New("consent").Funcs(template.FuncMap{
	"accentText": accentTextColor,
	"focusColor": focusColor,
	"sentence":   sentence,
	"initial": func(name string) string {
		if v, slot, _, rest, ok := parseSlotMarker(name); ok && slot == slotClientName {
			return slotMarker(v, slotInitial, 0) + rest
		}
		return initial(name)
	},
}).Parse(consentHTML))

// consentSkeleton is the built-in page for one set of branches: parts[i]
// comes before slots[i], and the last part ends the page.
type consentSkeleton struct {
	parts      []string
	slots      []skeletonSlot
	branding   Branding
	formAction string
}

type skeletonSlot struct{ kind, perm int }

// consentPages holds a proxy's skeletons by shape; a nil entry is a shape
// that failed the check.
type consentPages struct {
	mu sync.Mutex
	m  map[string]*consentSkeleton
	// bufs holds page buffers for reuse: a page is ~9 KiB, allocated on
	// every sign-in otherwise.
	bufs sync.Pool
}

// render writes page with a checked skeleton, or reports false: then the
// caller renders it with consentTemplate. The caller hands the page back with
// release once it is written.
func (c *consentPages) render(page *ConsentPage) ([]byte, bool) {
	key := consentShape(page)
	c.mu.Lock()
	sk, seen := c.m[key]
	if !seen && len(c.m) < maxConsentSkeletons {
		sk = buildConsentSkeleton(page)
		if c.m == nil {
			c.m = map[string]*consentSkeleton{}
		}
		c.m[key] = sk
	}
	c.mu.Unlock()
	if sk == nil || sk.branding != page.Branding || sk.formAction != page.FormAction {
		return nil, false
	}
	buf, _ := c.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	return sk.render((*buf)[:0], page), true
}

// release takes back a page render returned, for reuse.
func (c *consentPages) release(page []byte) {
	if cap(page) <= 64<<10 { // an outsized page (long values) is left to the GC
		c.bufs.Put(&page)
	}
}

// render appends page to out.
func (sk *consentSkeleton) render(out []byte, page *ConsentPage) []byte {
	for i, s := range sk.slots {
		out = append(out, sk.parts[i]...)
		out = appendPageEscaped(out, slotValue(page, s))
	}
	return append(out, sk.parts[len(sk.parts)-1]...)
}

func slotValue(page *ConsentPage, s skeletonSlot) string {
	switch s.kind {
	case slotTransactionID:
		return page.TransactionID
	case slotClientID:
		return page.ClientID
	case slotClientName:
		return page.ClientName
	case slotClientDomain:
		return page.ClientDomain
	case slotRedirectHost:
		return page.RedirectHost
	case slotProviderName:
		return page.ProviderName
	case slotRememberFor:
		return page.RememberFor
	case slotCSRFToken:
		return page.CSRFToken
	case slotNonce:
		return page.Nonce
	case slotInitial:
		return initial(page.ClientName)
	case slotScope:
		return page.Permissions[s.perm].Scope
	default: // slotScopeDescription
		return page.Permissions[s.perm].Description
	}
}

// consentShape names the branches page takes (which values are empty, the
// loopback flag, each permission's Known flag) and the values a skeleton
// holds as they are: the branding and the form action.
func consentShape(page *ConsentPage) string {
	b := make([]byte, 0, 16+len(page.Permissions))
	for _, v := range []string{page.TransactionID, page.ClientID, page.ClientName, page.ClientDomain,
		page.RedirectHost, page.ProviderName, page.RememberFor, page.CSRFToken, page.Nonce} {
		b = strconv.AppendBool(b, v != "")
	}
	b = strconv.AppendBool(b, page.RedirectIsLoopback)
	for _, perm := range page.Permissions {
		b = append(b, '/')
		b = strconv.AppendBool(b, perm.Scope != "")
		b = strconv.AppendBool(b, perm.Description != "")
		b = strconv.AppendBool(b, perm.Known)
	}
	// The values a skeleton holds as static HTML (one set per proxy).
	for _, v := range []string{page.FormAction, page.Branding.ProductName, page.Branding.LogoURL, page.Branding.AccentColor} {
		b = append(b, 0)
		b = append(b, v...)
	}
	return string(b)
}

// buildConsentSkeleton makes and checks the skeleton for page's shape, or
// returns nil.
func buildConsentSkeleton(page *ConsentPage) *consentSkeleton {
	outA, errA := executeSkeleton(markerPage(page, 'a', ""))
	outB, errB := executeSkeleton(markerPage(page, 'b', ""))
	outP, errP := executeSkeleton(markerPage(page, 'a', skeletonProbe))
	if errA != nil || errB != nil || errP != nil {
		return nil
	}
	sk, ok := splitSkeleton(outA, 'a')
	if !ok {
		return nil
	}
	skB, ok := splitSkeleton(outB, 'b')
	if !ok || fmt.Sprint(sk.parts, sk.slots) != fmt.Sprint(skB.parts, skB.slots) {
		return nil // the HTML depends on the values beyond where they appear
	}
	want := []byte{}
	for i, s := range sk.slots {
		want = append(want, sk.parts[i]...)
		want = append(want, slotMarker('a', s.kind, s.perm)...)
		want = appendPageEscaped(want, skeletonProbe)
	}
	want = append(want, sk.parts[len(sk.parts)-1]...)
	if !bytes.Equal(want, outP) {
		return nil // some value is escaped otherwise (URL, CSS, script)
	}
	sk.branding, sk.formAction = page.Branding, page.FormAction
	return sk
}

func executeSkeleton(page *ConsentPage) ([]byte, error) {
	var buf bytes.Buffer
	err := consentSkeletonTemplate.Execute(&buf, page)
	return buf.Bytes(), err
}

// markerPage is page with each non-empty value replaced by its slot's marker
// (variant v) followed by probe. Values shown nowhere differ by variant too,
// so a template that showed them would fail the check.
func markerPage(page *ConsentPage, v byte, probe string) *ConsentPage {
	mark := func(value string, slot, perm int) string {
		if value == "" {
			return ""
		}
		return slotMarker(v, slot, perm) + probe
	}
	m := &ConsentPage{
		TransactionID:      mark(page.TransactionID, slotTransactionID, 0),
		ClientID:           mark(page.ClientID, slotClientID, 0),
		ClientName:         mark(page.ClientName, slotClientName, 0),
		ClientDomain:       mark(page.ClientDomain, slotClientDomain, 0),
		RedirectHost:       mark(page.RedirectHost, slotRedirectHost, 0),
		RedirectIsLoopback: page.RedirectIsLoopback,
		ProviderName:       mark(page.ProviderName, slotProviderName, 0),
		Branding:           page.Branding,
		RememberFor:        mark(page.RememberFor, slotRememberFor, 0),
		FormAction:         page.FormAction,
		CSRFToken:          mark(page.CSRFToken, slotCSRFToken, 0),
		CSRFCookie:         "unshown-" + string(v),
		Nonce:              mark(page.Nonce, slotNonce, 0),
	}
	for i, perm := range page.Permissions {
		m.Scopes = append(m.Scopes, "unshown-"+string(v))
		m.Permissions = append(m.Permissions, ScopePermission{
			Scope:       mark(perm.Scope, slotScope, i),
			Description: mark(perm.Description, slotScopeDescription, i),
			Known:       perm.Known,
		})
	}
	return m
}

// A slot marker is "Zq", the variant, two digits of slot and three of
// permission index, and "qZ": letters and digits, which no escaper changes.
func slotMarker(v byte, slot, perm int) string {
	return fmt.Sprintf("Zq%c%02d%03dqZ", v, slot, perm)
}

const slotMarkerLen = len("Zqa00000qZ")

// parseSlotMarker reads a marker at the start of s.
func parseSlotMarker(s string) (v byte, slot, perm int, rest string, ok bool) {
	if len(s) < slotMarkerLen || s[:2] != "Zq" || s[slotMarkerLen-2:slotMarkerLen] != "qZ" {
		return 0, 0, 0, "", false
	}
	slot, err1 := strconv.Atoi(s[3:5])
	perm, err2 := strconv.Atoi(s[5:8])
	if err1 != nil || err2 != nil || slot < 0 || slot >= slotCount {
		return 0, 0, 0, "", false
	}
	return s[2], slot, perm, s[slotMarkerLen:], true
}

// splitSkeleton cuts out at the markers of variant v.
func splitSkeleton(out []byte, v byte) (*consentSkeleton, bool) {
	sk := &consentSkeleton{}
	s := string(out)
	last := 0
	for i := 0; i+slotMarkerLen <= len(s); i++ {
		if s[i] != 'Z' {
			continue
		}
		mv, slot, perm, _, ok := parseSlotMarker(s[i:])
		if !ok {
			continue
		}
		if mv != v {
			return nil, false
		}
		sk.parts = append(sk.parts, s[last:i])
		sk.slots = append(sk.slots, skeletonSlot{kind: slot, perm: perm})
		i += slotMarkerLen - 1
		last = i + 1
	}
	sk.parts = append(sk.parts, s[last:])
	return sk, true
}

// appendPageEscaped escapes s as html/template does a string in HTML text,
// RCDATA or a quoted attribute: NUL becomes U+FFFD and " & ' + < > become
// character references; everything else, invalid UTF-8 included, stays.
func appendPageEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, repl...)
		last = i + 1
	}
	return append(b, s[last:]...)
}
