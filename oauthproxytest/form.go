package oauthproxytest

import (
	"bytes"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlForm is a <form> as a browser would submit it (HTML Living Standard
// §4.10.21.4, "constructing the entry list"), read with golang.org/x/net/html.
type htmlForm struct {
	action  string // the action attribute as written; "" means the page's URL
	method  string // "get" or "post"
	enctype string
	// fields are the successful controls other than submit buttons: hidden
	// and text inputs, checked boxes, selected options, text areas.
	fields url.Values
	// checkboxes are the form's checkboxes and radio buttons, checked or not.
	checkboxes []checkable
	submitters []submitter
}

// checkable is a checkbox or radio button.
type checkable struct {
	name, value string
	checked     bool
}

// submitter is a submit button: <button> of type submit or <input type=submit>.
type submitter struct {
	name, value string
	formAction  string // formaction attribute, overriding the form's action
	formMethod  string // formmethod attribute, overriding the form's method
}

// find returns the form's submit button whose value is want, ignoring case.
func (f *htmlForm) find(want string) (submitter, bool) {
	for _, s := range f.submitters {
		if strings.EqualFold(s.value, want) {
			return s, true
		}
	}
	return submitter{}, false
}

// parsedPage is an HTML page's forms and visible text.
type parsedPage struct {
	forms []*htmlForm
	text  string
}

// parsePage reads the forms of an HTML document. Controls belong to their
// nearest <form> ancestor, or to the form their form attribute names.
func parsePage(doc []byte) (*parsedPage, error) {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	page := &parsedPage{text: visibleText(root)}
	byNode := map[*html.Node]*htmlForm{}
	byID := map[string]*htmlForm{}
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || n.DataAtom != atom.Form {
			continue
		}
		f := &htmlForm{
			action:  attr(n, "action"),
			method:  formMethod(attr(n, "method")),
			enctype: strings.ToLower(attr(n, "enctype")),
			fields:  url.Values{},
		}
		page.forms = append(page.forms, f)
		byNode[n] = f
		if id := attr(n, "id"); id != "" {
			if _, dup := byID[id]; !dup {
				byID[id] = f
			}
		}
	}
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.Input, atom.Button, atom.Select, atom.Textarea:
		default:
			continue
		}
		f := owner(n, byNode, byID)
		if f == nil || hasAttr(n, "disabled") {
			continue
		}
		addControl(f, n)
	}
	return page, nil
}

// owner is the form a control belongs to (HTML §4.10.17.3, "form owner").
func owner(n *html.Node, byNode map[*html.Node]*htmlForm, byID map[string]*htmlForm) *htmlForm {
	if hasAttr(n, "form") {
		return byID[attr(n, "form")]
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if f, ok := byNode[p]; ok {
			return f
		}
	}
	return nil
}

// addControl adds what the control n contributes to f's entry list.
func addControl(f *htmlForm, n *html.Node) {
	name := attr(n, "name")
	switch n.DataAtom {
	case atom.Button:
		if typ := strings.ToLower(attr(n, "type")); typ == "" || typ == "submit" {
			f.submitters = append(f.submitters, submitter{
				name: name, value: attr(n, "value"),
				formAction: attr(n, "formaction"), formMethod: attr(n, "formmethod"),
			})
		}
	case atom.Select:
		if name != "" {
			f.fields[name] = append(f.fields[name], selected(n)...)
		}
	case atom.Textarea:
		if name != "" {
			f.fields.Add(name, textContent(n))
		}
	case atom.Input:
		switch typ := strings.ToLower(attr(n, "type")); typ {
		case "submit":
			f.submitters = append(f.submitters, submitter{
				name: name, value: attr(n, "value"),
				formAction: attr(n, "formaction"), formMethod: attr(n, "formmethod"),
			})
		case "checkbox", "radio":
			value := "on" // the default value of a checkbox without one
			if hasAttr(n, "value") {
				value = attr(n, "value")
			}
			c := checkable{name: name, value: value, checked: hasAttr(n, "checked")}
			f.checkboxes = append(f.checkboxes, c)
			if c.checked && name != "" {
				f.fields.Add(name, value)
			}
		case "image", "reset", "button", "file":
			// Not submitted without a click or a file; the browser clicks none.
		default: // hidden, text, email and the other text-like types
			if name != "" {
				f.fields.Add(name, attr(n, "value"))
			}
		}
	}
}

// selected returns the values a <select> submits: its selected options, or
// for a single-choice list without one, its first option.
func selected(sel *html.Node) []string {
	var all, chosen []string
	for n := range sel.Descendants() {
		if n.Type != html.ElementNode || n.DataAtom != atom.Option || hasAttr(n, "disabled") {
			continue
		}
		v := strings.TrimSpace(textContent(n))
		if hasAttr(n, "value") {
			v = attr(n, "value")
		}
		all = append(all, v)
		if hasAttr(n, "selected") {
			chosen = append(chosen, v)
		}
	}
	if len(chosen) == 0 && !hasAttr(sel, "multiple") && len(all) > 0 {
		chosen = all[:1]
	}
	return chosen
}

func formMethod(m string) string {
	if strings.EqualFold(m, "post") {
		return "post"
	}
	return "get" // the default, and what invalid values fall back to
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return true
		}
	}
	return false
}

func textContent(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// maxPageText bounds the page text quoted in a PageError.
const maxPageText = 400

// visibleText is the text of the document's body with whitespace collapsed,
// cut at maxPageText bytes, for error messages.
func visibleText(root *html.Node) string {
	var words []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Head, atom.Script, atom.Style, atom.Template, atom.Noscript:
				return
			}
		}
		if n.Type == html.TextNode {
			words = append(words, strings.Fields(n.Data)...)
		}
		for c := range n.ChildNodes() {
			walk(c)
		}
	}
	walk(root)
	return shorten(strings.Join(words, " "))
}

// shorten cuts s to about maxPageText bytes on a rune boundary.
func shorten(s string) string {
	if len(s) <= maxPageText {
		return s
	}
	cut := maxPageText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
