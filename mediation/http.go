package mediation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"yizhan/store"
)

// maxBody bounds every request body; all our requests are small.
const maxBody = 64 << 10

// apiError is an HTTP answer that is not 2xx: {"error": msg, "code": code}.
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter int // seconds, for 429: after this long the same request is not refused for the same reason
}

func (e *apiError) Error() string { return e.msg }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "bad_request", format, args...)
}

var (
	errUnauthorized = errf(http.StatusUnauthorized, "unauthorized", "log in first")
	errForbidden    = errf(http.StatusForbidden, "forbidden", "your roles do not allow this")
	errNotHost      = errf(http.StatusForbidden, "forbidden", "only the session's hosts may do this")
)

func notFound(what string) *apiError {
	return errf(http.StatusNotFound, "not_found", "%s not found", what)
}

// fromStore maps store errors to API errors; anything else is a 500.
func fromStore(err error) error {
	var ae *apiError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound):
		return errf(http.StatusNotFound, "not_found", "%s", err.Error())
	case errors.Is(err, store.ErrInvalid):
		return errf(http.StatusBadRequest, "bad_request", "%s", trimSentinel(err, store.ErrInvalid))
	case errors.Is(err, store.ErrExists):
		return errf(http.StatusConflict, "conflict", "%s", err.Error())
	case errors.Is(err, store.ErrIllegalTransition):
		return errf(http.StatusConflict, "illegal_transition", "%s", trimSentinel(err, store.ErrIllegalTransition))
	}
	return err
}

func trimSentinel(err, sentinel error) string {
	return strings.TrimSuffix(err.Error(), ": "+sentinel.Error())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// writeErr answers err; unknown errors are logged and answered as 500 without detail.
func (s *core) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(fromStore(err), &ae) {
		s.log.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errf(http.StatusInternalServerError, "internal", "internal error")
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	writeJSON(w, ae.status, map[string]string{"error": ae.msg, "code": ae.code})
}

// decode reads one JSON object into v: at most maxBody bytes, no unknown fields, field
// names matched exactly, text without control characters or bidi overrides (checkJSON),
// no trailing data. optional allows an empty body (v keeps its zero value).
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	return decodeMax(w, r, v, optional, maxBody)
}

// decodeMax is decode with another bound (a signature image is larger than maxBody).
func decodeMax(w http.ResponseWriter, r *http.Request, v any, optional bool, limit int64) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(http.StatusRequestEntityTooLarge, "too_large", "request body is larger than %d bytes", limit)
		}
		return errf(http.StatusBadRequest, "bad_json", "reading body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return errf(http.StatusBadRequest, "bad_json", "a JSON body is required")
	}
	if err := checkJSON(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return errf(http.StatusBadRequest, "unknown_field", "unknown field %s", f)
		}
		return errf(http.StatusBadRequest, "bad_json", "malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF { // not dec.More: it says false before a stray "}"
		return errf(http.StatusBadRequest, "bad_json", "malformed JSON: data after the object")
	}
	return nil
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound(name)
	}
	return id, nil
}

// clientAddr is the peer address without the port: the key for rate limits.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func stateChanging(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// sameOrigin checks a state-changing browser request came from our own pages: Origin, when
// present, must be the public URL's scheme and host (or, without one, this connection's);
// Sec-Fetch-Site, when present, must be same-origin or none. Non-browser clients send
// neither and cannot be driven by another site.
func (s *core) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return false
		}
		pu, err := url.Parse(s.publicBase(r))
		if err != nil || !strings.EqualFold(pu.Scheme, u.Scheme) || !strings.EqualFold(pu.Host, u.Host) {
			return false
		}
	}
	if sf := r.Header.Get("Sec-Fetch-Site"); sf != "" && sf != "same-origin" && sf != "none" {
		return false
	}
	return true
}

// publicBase is scheme://host where clients reach us: Config.PublicURL. Without one
// (tests of the HTTP rules), the scheme of this connection and the address it reached;
// never the Host header or X-Forwarded-* that a client or proxy made up.
func (s *core) publicBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := "localhost"
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		host = a.String()
	}
	return scheme + "://" + host
}

// secureCookies: the login cookie is Secure when clients reach us over https.
func (s *core) secureCookies(r *http.Request) bool {
	return s.cfg.SecureCookies || r.TLS != nil || strings.HasPrefix(s.publicBase(r), "https://")
}

func (s *core) linkURL(r *http.Request, code string) string {
	return s.publicBase(r) + "/j/" + code
}

func (s *core) signalURL(r *http.Request) string {
	if s.cfg.SignalURL != "" {
		return s.cfg.SignalURL
	}
	b := s.publicBase(r)
	if rest, ok := strings.CutPrefix(b, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(b, "http://")
}

// handlers of the three kinds of caller
type (
	staffHandler func(w http.ResponseWriter, r *http.Request, a *actor) error
	openHandler  func(w http.ResponseWriter, r *http.Request) error
)

// staff wraps h: a valid login is required; state-changing calls must be same-origin.
func (s *core) staff(h staffHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stateChanging(r.Method) && !s.sameOrigin(r) {
			s.writeErr(w, r, errf(http.StatusForbidden, "bad_origin", "request came from another origin"))
			return
		}
		a, err := s.authenticate(r)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		if err := h(w, r, a); err != nil {
			s.writeErr(w, r, err)
		}
	})
}

// open wraps h for endpoints without login (login itself, invitation joins). A cookie on a
// state-changing call still has to come from our origin.
func (s *core) open(h openHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(cookieName); (err == nil || r.URL.Path == "/api/login") && stateChanging(r.Method) && !s.sameOrigin(r) {
			s.writeErr(w, r, errf(http.StatusForbidden, "bad_origin", "request came from another origin"))
			return
		}
		if err := h(w, r); err != nil {
			s.writeErr(w, r, err)
		}
	})
}

func (s *Service) routes() {
	m := http.NewServeMux()
	au, cs, se, jo, lv, cf := s.auth, s.cases, s.sess, s.join, s.live, s.files
	m.Handle("POST /api/login", s.open(au.login))
	m.Handle("POST /api/logout", s.open(au.logout))
	m.Handle("GET /api/me", s.staff(au.me))
	m.Handle("GET /api/staff", s.staff(au.listStaff))
	m.Handle("GET /api/centres", s.staff(au.listCentres))

	m.Handle("POST /api/cases", s.staff(cs.createCase))
	m.Handle("GET /api/cases/{id}", s.staff(cs.getCase))
	m.Handle("PATCH /api/cases/{id}", s.staff(cs.patchCase))

	m.Handle("POST /api/cases/{id}/sessions", s.staff(se.createSession))
	m.Handle("GET /api/sessions", s.staff(se.listSessions))
	m.Handle("GET /api/sessions/{id}", s.staff(se.getSession))
	m.Handle("POST /api/sessions/{id}/invitations", s.staff(se.createInvitation))
	m.Handle("GET /api/sessions/{id}/invitations", s.staff(se.listInvitations))
	m.Handle("DELETE /api/invitations/{code}", s.staff(se.revokeInvitation))

	m.Handle("GET /api/join/{code}", s.open(jo.joinInfo))
	m.Handle("POST /api/join/{code}", s.open(jo.joinByInvitation))
	m.Handle("POST /api/sessions/{id}/join", s.staff(jo.joinAsStaff))

	m.Handle("GET /api/sessions/{id}/live", s.staff(lv.live))
	for control, h := range map[string]staffHandler{
		"admit": lv.admit, "move": lv.move, "lobby": lv.lobby, "deny": lv.deny, "remove": lv.remove, "mute": lv.mute,
		"end": lv.end, "next": lv.next, "recording": lv.recording, "outcome": lv.outcome, "invite-staff": lv.inviteStaff,
	} {
		m.Handle("POST /api/sessions/{id}/"+control, s.staff(h))
	}

	m.Handle("GET /api/sessions/{id}/casefile", s.staff(cf.caseFile))
	m.Handle("GET /api/sessions/{id}/casefile/files/{path...}", s.staff(cf.caseFileDownload))
	m.Handle("POST /api/sessions/{id}/casefile/verify", s.staff(cf.caseFileVerify))
	m.Handle("GET /api/sessions/{id}/casefile/export", s.staff(cf.caseFileExport))

	cf.caseFileRoutes(m)                       // casefolder_api.go: /api/cases/{id}/file..., /api/signing-key
	newDocuments(s, s.cfg.Documents).routes(m) // documents.go: documents, signatures, confirmation (issue 10)
	s.lectures.routes(m)                       // lecture_api.go: /api/lectures..., /api/public/lectures...
	m.Handle("GET /api/events", s.staff(s.eventStream))
	s.loop, s.intake = newCaseLoop(s), newIntake(s)
	s.loop.routes(m)
	s.intake.routes(m)                       // loop.go, intake.go: the case loop and the citizen's way in (issue 11)
	(&dashboard{svc: s, st: s.st}).routes(m) // dashboard.go: the paged case list, statistics, export, QR (issue 11)
	m.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeErr(w, r, errf(http.StatusNotFound, "not_found", "no such endpoint: %s %s", r.Method, r.URL.Path))
	}))
	s.mux = m
}
