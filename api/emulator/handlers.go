package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"enroll/api"
)

func (e *Emulator) routes() *http.ServeMux {
	m := http.NewServeMux()
	// Method patterns give 405 with Allow for free, outside the counters.
	m.Handle("GET "+api.PathDiscovery, e.service(OpDiscovery, e.discovery))
	m.Handle("POST "+api.PathToken, e.service(OpToken, e.token))
	m.Handle(api.MethodAccept+" "+api.PathAccept, e.service(OpAccept, e.accept))
	m.Handle(api.MethodDecline+" "+api.PathDecline, e.service(OpDecline, e.decline))
	m.Handle(api.MethodSend+" "+api.PathSendTemplate, e.service(OpSend, e.send))
	m.HandleFunc("GET /invitation", landing)
	e.controlRoutes(m)
	return m
}

// baseLocked is the base URL for links in an answer: the one set with
// SetBaseURL, else the one the request was addressed to.
func (e *Emulator) baseLocked(r *http.Request) string {
	if e.base != "" {
		return e.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// discovery names the token endpoint on the origin the request was
// addressed to, as a service reached by several names would: enroll sends
// a device's secret only to the origin it is enrolled with, and a device
// enrolled through localhost must find its token endpoint there too.
func (e *Emulator) discovery(r *http.Request) reply {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	return jsonReply(http.StatusOK, struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}{base + "/user", base + api.PathToken})
}

// token is the OAuth 2.0 client credentials grant (RFC 6749 §4.4) with
// client authentication by Basic auth or form fields (§2.3.1), never both.
func (e *Emulator) token(r *http.Request) reply {
	if err := r.ParseForm(); err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", "The request body could not be read.")
	}
	form := r.PostForm // credentials in the query string are not accepted
	switch form.Get("grant_type") {
	case "client_credentials":
	case "":
		return oauthError(http.StatusBadRequest, "invalid_request", "grant_type is missing.")
	default:
		return oauthError(http.StatusBadRequest, "unsupported_grant_type", "Only client_credentials is supported.")
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		if form.Has("client_id") || form.Has("client_secret") {
			return oauthError(http.StatusBadRequest, "invalid_request", "Use one client authentication method.")
		}
		// RFC 6749 §2.3.1: Basic credentials are form-encoded first.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			id, secret = "", ""
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.byClientID[id]
	if c == nil || subtle.ConstantTimeCompare([]byte(c.ClientSecret), []byte(secret)) != 1 {
		rp := oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		if basic {
			rp.header.Set("WWW-Authenticate", `Basic realm="enroll-emulator"`)
		}
		return rp
	}
	now := e.clock()
	for t, at := range e.tokens { // forget expired tokens so memory stays bounded
		if !now.Before(at.expires) {
			delete(e.tokens, t)
		}
	}
	tok := e.randToken()
	e.tokens[tok] = accessToken{client: c, expires: now.Add(AccessTokenTTL)}
	rp := jsonReply(http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}{tok, "Bearer", int(AccessTokenTTL / time.Second)})
	rp.header.Set("Cache-Control", "no-store")
	rp.header.Set("Pragma", "no-cache")
	return rp
}

// landing is what a browser shows for an invitation link: the token is
// meant for the device, so the page neither echoes it nor leaks it as a
// referrer.
func landing(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	io.WriteString(w, "Open this link on the device with enroll.\n") //nolint:errcheck
}

// bearerToken returns the token of an "Authorization: Bearer" header and
// whether any Authorization header was sent at all.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

// decodeJSON reads a JSON request body into v, ignoring unknown fields as
// the real service is assumed to. It returns why the body is unusable.
func decodeJSON(r *http.Request, v any) *refusal {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != api.ContentTypeJSON {
		return &refusal{http.StatusUnsupportedMediaType, "unsupported_media_type", "The body must be application/json."}
	}
	return decodeBody(r, v)
}

// decodeBody is decodeJSON without the Content-Type check, for the control
// surface that scripts drive with curl.
func decodeBody(r *http.Request, v any) *refusal {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &refusal{http.StatusRequestEntityTooLarge, "body_too_large", "The body is too large."}
	case err != nil:
		return &refusal{http.StatusBadRequest, "invalid_request", "The body is not valid JSON for this call."}
	}
	return nil
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic("emulator: " + err.Error()) // only our own types are marshalled
	}
	return reply{status: status, header: http.Header{}, body: b}
}

// The error shapes. Each operation uses a different one of those wire.go
// lists, so that the client's error reader meets all of them.

// oauthError is RFC 6749 §5.2 (token endpoint) and RFC 6750 (bearer).
func oauthError(status int, code, desc string) reply {
	return jsonReply(status, map[string]string{"error": code, "error_description": desc})
}

// codeMessage is the accept call's shape.
func codeMessage(rf *refusal) reply {
	return jsonReply(rf.status, map[string]string{"code": rf.code, "message": rf.message})
}

// errorDescription is the decline call's shape.
func errorDescription(rf *refusal) reply {
	return jsonReply(rf.status, map[string]string{"error": rf.code, "errorDescription": rf.message})
}

// errorCodeDescription is the send call's shape: a general "error" class
// and a specific "code".
func errorCodeDescription(rf *refusal) reply {
	class := map[int]string{400: "invalid_request", 401: "unauthorized", 403: "forbidden",
		404: "not_found", 413: "invalid_request", 415: "invalid_request"}[rf.status]
	if class == "" {
		class = "error"
	}
	return jsonReply(rf.status, map[string]string{"error": class, "code": rf.code, "description": rf.message})
}
