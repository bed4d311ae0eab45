package providers

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/oauthproxy-go/oauthproxy"
)

// EntraAuthority is the Microsoft Entra ID authority of the global cloud.
// National clouds have their own (https://login.microsoftonline.us,
// https://login.chinacloudapi.cn).
const EntraAuthority = "https://login.microsoftonline.com"

// Entra tenant names that stand for many tenants (Microsoft identity
// platform, "Application configuration options": sign-in audience).
const (
	EntraCommon        = "common"        // work, school and personal accounts
	EntraOrganizations = "organizations" // work and school accounts of any tenant
	EntraConsumers     = "consumers"     // personal Microsoft accounts only
)

// entraConsumersTenantID is the tenant of every personal Microsoft account.
const entraConsumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// EntraOptions select a Microsoft Entra ID tenant.
type EntraOptions struct {
	// Tenant is the directory (tenant) id, a verified domain
	// ("contoso.onmicrosoft.com"), or EntraCommon, EntraOrganizations or
	// EntraConsumers. Required. The tenant id pins the issuer exactly and is
	// the safest choice.
	Tenant string
	// Authority is the login host; default EntraAuthority.
	Authority string
	// AllowedTenants, when set, admits only users whose tid is listed: for
	// the multi-tenant values of Tenant, which otherwise let a user of any
	// Entra tenant sign in.
	AllowedTenants []string
}

// Entra configures the proxy for Microsoft Entra ID (formerly Azure AD) in
// tenant. It is EntraOptions{Tenant: tenant}.Apply(cfg).
func Entra(tenant string, cfg oauthproxy.Config) (oauthproxy.Config, error) {
	return EntraOptions{Tenant: tenant}.Apply(cfg)
}

// Apply configures cfg for Entra's v2.0 endpoints of the tenant, as
// Metadata.Apply does, with ProviderName "Microsoft", the scopes openid,
// profile, email and offline_access (Entra issues refresh tokens only for
// offline_access), client_secret_post, and tid and oid added to the default
// PassthroughClaims. Fields of cfg already set are kept.
//
// Id_tokens are verified against the tenant's keys. Their issuer is
// Authority+"/"+tid+"/v2.0": for a tenant id it must be exactly that tenant;
// for the other values Entra publishes the template
// Authority+"/{tenantid}/v2.0", and the issuer must match it with the token's
// own tid. Entra's email claim is not verified by Microsoft (any tenant's
// admin can set it), so the preset sets email_verified to false unless the
// xms_edov optional claim says the domain owner verified it: identify users
// by tid and oid (or sub), never by email.
func (o EntraOptions) Apply(cfg oauthproxy.Config) (oauthproxy.Config, error) {
	authority := strings.TrimSuffix(o.Authority, "/")
	if authority == "" {
		authority = EntraAuthority
	}
	if err := checkURL("Authority", authority); err != nil {
		return oauthproxy.Config{}, fmt.Errorf("providers: Entra: %w", err)
	}
	if o.Tenant == "" || strings.ContainsAny(o.Tenant, "/?#%{} ") || o.Tenant == "." || o.Tenant == ".." {
		return oauthproxy.Config{}, fmt.Errorf("providers: Entra: Tenant %q must be a tenant id, a domain, or common, organizations or consumers", o.Tenant)
	}
	for _, tid := range o.AllowedTenants {
		if !guidPattern.MatchString(tid) {
			return oauthproxy.Config{}, fmt.Errorf("providers: Entra: AllowedTenants: %q is not a tenant id", tid)
		}
	}
	base := authority + "/" + o.Tenant
	m := &Metadata{
		Issuer:                            authority + "/{tenantid}/v2.0",
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		JWKSURI:                           base + "/discovery/v2.0/keys",
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		TokenEndpointAuthMethodsSupported: []string{oauthproxy.AuthMethodClientSecretPost, oauthproxy.AuthMethodClientSecretBasic},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
	}
	fill(&cfg.ProviderName, "Microsoft")
	fill(&cfg.UpstreamTokenEndpointAuthMethod, oauthproxy.AuthMethodClientSecretPost)
	fillScopes(&cfg, "openid", "profile", "email", "offline_access")
	if len(cfg.PassthroughClaims) == 0 {
		cfg.PassthroughClaims = append(slices.Clone(oauthproxy.DefaultPassthroughClaims), "tid", "oid")
	}
	return m.apply(cfg, idTokenOptions{
		issuer: o.checkIssuer(authority),
		check:  entraEmail,
	})
}

// checkIssuer matches iss against the tenant's issuer, or against the
// {tenantid} template filled with the token's own tid.
func (o EntraOptions) checkIssuer(authority string) func(string, map[string]any) error {
	exact := guidPattern.MatchString(o.Tenant)
	return func(iss string, claims map[string]any) error {
		tid, _ := claims["tid"].(string)
		switch {
		case !guidPattern.MatchString(tid):
			return errors.New("id_token has no tenant id (tid)")
		case exact && !strings.EqualFold(tid, o.Tenant):
			return fmt.Errorf("id_token is from tenant %s, not %s", tid, o.Tenant)
		case o.Tenant == EntraConsumers && tid != entraConsumersTenantID:
			return fmt.Errorf("id_token is from tenant %s, not the personal accounts tenant", tid)
		case iss != authority+"/"+tid+"/v2.0":
			return fmt.Errorf("id_token issued by %q, expected %q", iss, authority+"/"+tid+"/v2.0")
		case len(o.AllowedTenants) > 0 && !slices.ContainsFunc(o.AllowedTenants, func(t string) bool { return strings.EqualFold(t, tid) }):
			return fmt.Errorf("tenant %s is not in AllowedTenants", tid)
		}
		return nil
	}
}

// entraEmail marks Entra's email as unverified unless xms_edov vouches for it.
func entraEmail(claims map[string]any) error {
	if _, ok := claims["email"]; ok {
		claims["email_verified"] = claims["xms_edov"] == true
	}
	return nil
}
