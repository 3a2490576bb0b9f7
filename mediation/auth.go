package mediation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"yizhan/store"
)

const cookieName = "yizhan_session"

// authAPI logs staff in and out and lists staff and centres.
type authAPI struct {
	*core
	// static after construction
	loginUser *throttle // failed logins per username
	loginAddr *throttle // failed logins per client address
}

// actor is a logged-in staff member with the centre they belong to.
type actor struct {
	store.Staff
	centre store.Centre
}

func (a *actor) identity() string { return "staff-" + a.Username }

// authenticate resolves the session cookie to a staff member.
func (s *core) authenticate(r *http.Request) (*actor, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil, errUnauthorized
	}
	user, exp, err := s.st.AuthSession(r.Context(), tokenHash(c.Value))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.now().Before(exp)) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	return s.actorFor(r.Context(), user)
}

func (s *core) actorFor(ctx context.Context, username string) (*actor, error) {
	st, err := s.st.Staff(ctx, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.Disabled) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	c, err := s.st.Centre(ctx, st.Centre)
	if err != nil {
		return nil, err
	}
	return &actor{Staff: st, centre: c}, nil
}

// tokenHash is what the store keeps of a login token: a leaked database reveals no
// usable cookie.
func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // cannot happen on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginReq struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *authAPI) login(w http.ResponseWriter, r *http.Request) error {
	var req loginReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	user, addr := strings.TrimSpace(req.Username), clientAddr(r)
	if user == "" || req.Password == "" {
		return badRequest("username and password are required")
	}
	now := s.now()
	st, err := s.st.Staff(r.Context(), user)
	hash := st.PasswordHash
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		hash = store.DummyHash // same work for unknown users: no username oracle by timing
	}
	if !store.CheckPassword(hash, req.Password) || err != nil || st.Disabled {
		s.log.Info("login failed", "username", user, "addr", addr)
		if err := s.failed(r.Context(), throttleKey{s.loginUser, user}, throttleKey{s.loginAddr, addr}); err != nil {
			return err
		}
		return errf(http.StatusUnauthorized, "bad_credentials", "wrong username or password")
	}
	tok := randomToken(32)
	exp := now.Add(s.cfg.LoginTTL)
	if err := s.st.CreateAuthSession(r.Context(), tokenHash(tok), st.Username, exp); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: tok, Path: "/", Expires: exp, MaxAge: int(s.cfg.LoginTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookies(r),
	})
	a, err := s.actorFor(r.Context(), st.Username)
	if err != nil {
		return err
	}
	s.log.Info("login", "username", st.Username, "addr", addr)
	writeJSON(w, http.StatusOK, staffView(a.Staff, a.centre))
	return nil
}

func (s *authAPI) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		if err := s.st.DeleteAuthSession(r.Context(), tokenHash(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookies(r)})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *authAPI) me(w http.ResponseWriter, r *http.Request, a *actor) error {
	writeJSON(w, http.StatusOK, staffView(a.Staff, a.centre))
	return nil
}

func (s *authAPI) listStaff(w http.ResponseWriter, r *http.Request, a *actor) error {
	q := r.URL.Query()
	f := store.StaffFilter{Tier: q.Get("tier"), Role: q.Get("role"), Query: strings.TrimSpace(q.Get("q"))}
	if f.Tier != "" && !store.OneOf(f.Tier, store.Tiers) {
		return badRequest("tier must be one of %s", strings.Join(store.Tiers, ", "))
	}
	if f.Role != "" && !store.OneOf(f.Role, store.Roles) {
		return badRequest("role must be one of %s", strings.Join(store.Roles, ", "))
	}
	list, err := s.st.ListStaff(r.Context(), f)
	if err != nil {
		return err
	}
	centres, err := s.centreMap(r.Context())
	if err != nil {
		return err
	}
	out := make([]staffJSON, 0, len(list))
	for _, st := range list {
		out = append(out, staffView(st, centres[st.Centre]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"staff": out})
	return nil
}

func (s *authAPI) listCentres(w http.ResponseWriter, r *http.Request, a *actor) error {
	cs, err := s.st.Centres(r.Context())
	if err != nil {
		return err
	}
	out := make([]centreJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, centreView(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"centres": out})
	return nil
}

func (s *core) centreMap(ctx context.Context) (map[string]store.Centre, error) {
	cs, err := s.st.Centres(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.Centre, len(cs))
	for _, c := range cs {
		m[c.Code] = c
	}
	return m, nil
}

var (
	usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)
	codeRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// UserSpec is a staff account to create (`yizhan user add`, the dev seed).
type UserSpec struct {
	Username, Name, Centre string
	Roles                  []string
	Gold                   bool
}

// AddUser validates u, hashes password with argon2id and stores the account.
func AddUser(ctx context.Context, st store.Store, u UserSpec, password string) error {
	if !usernameRE.MatchString(u.Username) {
		return fmt.Errorf("username %q: 2-32 of a-z 0-9 . _ -, starting with a letter or digit", u.Username)
	}
	if strings.TrimSpace(u.Name) == "" {
		return errors.New("a display name is required")
	}
	if len(password) < 8 {
		return errors.New("password must be at least 8 characters")
	}
	if _, err := st.Centre(ctx, u.Centre); err != nil {
		return fmt.Errorf("centre %q: %w", u.Centre, err)
	}
	roles := map[string]bool{}
	for _, r := range u.Roles {
		r = strings.TrimSpace(r)
		if !store.OneOf(r, store.Roles) {
			return fmt.Errorf("unknown role %q (one of %s)", r, strings.Join(store.Roles, ", "))
		}
		roles[r] = true
	}
	if len(roles) == 0 {
		return errors.New("at least one role is required")
	}
	if u.Gold && !roles["mediator"] {
		return errors.New("--gold is a distinction of mediators: add the mediator role")
	}
	hash, err := store.HashPassword(password)
	if err != nil {
		return err
	}
	list := make([]string, 0, len(roles))
	for r := range roles {
		list = append(list, r)
	}
	sort.Strings(list)
	return st.AddStaff(ctx, store.Staff{Username: u.Username, Name: strings.TrimSpace(u.Name), Centre: u.Centre, Roles: list, Gold: u.Gold, PasswordHash: hash})
}

// AddCentre validates c (code, tier, a parent one tier up; only a city has no parent) and
// stores it.
func AddCentre(ctx context.Context, st store.Store, c store.Centre) error {
	if !codeRE.MatchString(c.Code) {
		return fmt.Errorf("centre code %q: 1-64 of letters, digits . _ -", c.Code)
	}
	if strings.TrimSpace(c.Name) == "" {
		return errors.New("a centre name is required")
	}
	want := map[string]string{"city": "", "township": "city", "village": "township"}
	parentTier, ok := want[c.Tier]
	if !ok {
		return fmt.Errorf("tier %q: one of city, township, village", c.Tier)
	}
	switch {
	case parentTier == "" && c.Parent != "":
		return errors.New("a city centre has no parent")
	case parentTier != "" && c.Parent == "":
		return fmt.Errorf("a %s centre needs --parent (a %s centre)", c.Tier, parentTier)
	case parentTier != "":
		p, err := st.Centre(ctx, c.Parent)
		if err != nil {
			return fmt.Errorf("parent %q: %w", c.Parent, err)
		}
		if p.Tier != parentTier {
			return fmt.Errorf("parent %q is a %s centre; a %s centre's parent must be a %s centre", c.Parent, p.Tier, c.Tier, parentTier)
		}
	}
	return st.AddCentre(ctx, c)
}
