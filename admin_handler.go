package oauthproxy

import (
	"net/http"
	"strconv"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

// AdminHandler serves the administration API as JSON, for operators who want
// it over HTTP. It has NO authentication of its own: mount it only behind
// your own (an admin-only listener, mTLS, an authenticating middleware), with
// http.StripPrefix if under a path. Handler never serves it.
//
//	GET    /clients?cursor=&page_size=          ListClients  → {"clients":[…],"next_cursor":"…"}
//	GET    /clients/{client_id}                 GetClient    → {…}
//	DELETE /clients/{client_id}                 DeleteClient → 204
//	GET    /grants?subject=&client_id=&cursor=&page_size=  ListGrants → {"grants":[…],"next_cursor":"…"}
//	DELETE /grants/{id}                         RevokeGrant  → 204
//	DELETE /grants?subject=                     RevokeSubject → {"revoked":n}
//
// A client_id that is a URL (a metadata-document client) is sent
// path-escaped. Errors are RFC 6749 §5.2 JSON: 400 invalid_request for bad
// input, 404 for an unknown client or grant. Requests carry no body, and a
// page is at most storage.MaxScanLimit entries.
func (p *Proxy) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /clients", p.serveListClients)
	mux.HandleFunc("GET /clients/{id}", p.serveGetClient)
	mux.HandleFunc("DELETE /clients/{id}", p.serveDeleteClient)
	mux.HandleFunc("GET /grants", p.serveListGrants)
	mux.HandleFunc("DELETE /grants/{id}", p.serveRevokeGrant)
	mux.HandleFunc("DELETE /grants", p.serveRevokeSubject)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.NoStore(w)
		mux.ServeHTTP(w, r.WithContext(WithRemoteAddr(r.Context(), clientAddr(r, p.cfg.trustedProxies))))
	})
}

// pageFrom reads cursor and page_size from the query.
func pageFrom(r *http.Request) (Page, *Error) {
	q := r.URL.Query()
	pg := Page{Cursor: q.Get("cursor")}
	if s := q.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return pg, newError(ErrCodeInvalidRequest, "page_size must be a number")
		}
		pg.Size = n
	}
	return pg, nil
}

func (p *Proxy) serveListClients(w http.ResponseWriter, r *http.Request) {
	pg, oerr := pageFrom(r)
	if oerr != nil {
		p.writeError(w, r, oerr)
		return
	}
	list, err := p.ListClients(r.Context(), pg)
	p.writeAdmin(w, r, list, err)
}

func (p *Proxy) serveGetClient(w http.ResponseWriter, r *http.Request) {
	info, err := p.GetClient(r.Context(), r.PathValue("id"))
	p.writeAdmin(w, r, info, err)
}

func (p *Proxy) serveDeleteClient(w http.ResponseWriter, r *http.Request) {
	p.writeAdmin(w, r, nil, p.DeleteClient(r.Context(), r.PathValue("id")))
}

func (p *Proxy) serveListGrants(w http.ResponseWriter, r *http.Request) {
	pg, oerr := pageFrom(r)
	if oerr != nil {
		p.writeError(w, r, oerr)
		return
	}
	q := r.URL.Query()
	list, err := p.ListGrants(r.Context(), GrantFilter{Subject: q.Get("subject"), ClientID: q.Get("client_id")}, pg)
	p.writeAdmin(w, r, list, err)
}

func (p *Proxy) serveRevokeGrant(w http.ResponseWriter, r *http.Request) {
	p.writeAdmin(w, r, nil, p.RevokeGrant(r.Context(), r.PathValue("id")))
}

func (p *Proxy) serveRevokeSubject(w http.ResponseWriter, r *http.Request) {
	n, err := p.RevokeSubject(r.Context(), r.URL.Query().Get("subject"))
	p.writeAdmin(w, r, map[string]int{"revoked": n}, err)
}

// writeAdmin answers with v as JSON, 204 when v is nil, or the error.
func (p *Proxy) writeAdmin(w http.ResponseWriter, r *http.Request, v any, err error) {
	switch {
	case err != nil:
		p.writeError(w, r, err)
	case v == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		httpx.WriteJSON(w, http.StatusOK, v)
	}
}
