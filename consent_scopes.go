package oauthproxy

import "strings"

// ScopePermission is one requested scope as the consent page shows it: the
// raw scope token and what it lets the application do, in plain words.
type ScopePermission struct {
	Scope       string
	Description string
	// Known is false when no description exists for Scope; Description then
	// repeats the raw scope, so nothing requested is ever hidden.
	Known bool
}

// builtinScopeDescriptions describe the scopes MCP servers commonly pass to
// OpenID Connect providers, GitHub, Google and Microsoft. Config's
// ScopeDescriptions extends and overrides them.
var builtinScopeDescriptions = map[string]string{
	// OpenID Connect Core §5.4, §11.
	"openid":         "Confirm who you are",
	"profile":        "See your name and basic profile information",
	"email":          "See your email address",
	"address":        "See your postal address",
	"phone":          "See your phone number",
	"offline_access": "Stay connected when you are not using it",

	// GitHub OAuth apps.
	"read:user":     "Read your profile information",
	"user:email":    "See your email addresses",
	"user:follow":   "Follow and unfollow people for you",
	"user":          "Read and change your profile information",
	"repo":          "Read and change all your repositories, public and private",
	"repo:status":   "Read and set commit statuses in your repositories",
	"public_repo":   "Read and change your public repositories",
	"read:org":      "See your organisations and teams",
	"gist":          "Create and change your gists",
	"workflow":      "Change your GitHub Actions workflows",
	"notifications": "Read your notifications",

	// Google.
	"https://www.googleapis.com/auth/userinfo.email":    "See your email address",
	"https://www.googleapis.com/auth/userinfo.profile":  "See your name and basic profile information",
	"https://www.googleapis.com/auth/drive.readonly":    "See and download all your Google Drive files",
	"https://www.googleapis.com/auth/drive.file":        "See and change the Google Drive files it creates or you open with it",
	"https://www.googleapis.com/auth/calendar.readonly": "See your calendars and events",
	"https://www.googleapis.com/auth/gmail.readonly":    "Read your email messages and settings",

	// Microsoft identity platform.
	"User.Read":      "Read your profile information",
	"Mail.Read":      "Read your email",
	"Calendars.Read": "Read your calendars",
	"Files.Read":     "Read your files",
}

// scopePermissions describes each scope, in the order requested.
func (p *Proxy) scopePermissions(scopes []string) []ScopePermission {
	out := make([]ScopePermission, 0, len(scopes))
	for _, s := range scopes {
		desc, ok := p.cfg.ScopeDescriptions[s]
		if !ok {
			desc, ok = builtinScopeDescriptions[s]
		}
		if !ok || strings.TrimSpace(desc) == "" {
			out = append(out, ScopePermission{Scope: s, Description: s})
			continue
		}
		out = append(out, ScopePermission{Scope: s, Description: desc, Known: true})
	}
	return out
}
