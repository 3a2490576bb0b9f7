package mediation

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"yizhan/store"
)

// sessionsAPI schedules sessions and invites to them.
type sessionsAPI struct {
	*core
	rooms *liveRooms // static after construction
}

// sessionCtx is a session with its case and what the actor may do in it.
type sessionCtx struct {
	sess    store.Session
	cas     store.Case
	host    bool   // may use host controls
	invited string // role given by invite-staff, "" if not invited
	visible bool   // the case's centre is the actor's or below it
}

// loadSession resolves session id for a; 404 unless the actor is a host, was invited, or
// can see the case.
func (s *core) loadSession(ctx context.Context, a *actor, id int64) (*sessionCtx, error) {
	se, err := s.st.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("session")
	}
	if err != nil {
		return nil, err
	}
	c, err := s.st.Case(ctx, se.CaseID)
	if err != nil {
		return nil, err
	}
	sc := &sessionCtx{sess: se, cas: c}
	if sc.visible, err = s.canSee(ctx, a, c.Centre); err != nil {
		return nil, err
	}
	sc.host = store.OneOf(a.Username, se.Hosts) || (c.Mediator != "" && a.Username == c.Mediator) || (a.Has("admin") && sc.visible)
	staff, err := s.st.SessionStaff(ctx, se.ID)
	if err != nil {
		return nil, err
	}
	for _, ss := range staff {
		if ss.Username == a.Username {
			sc.invited = ss.Role
		}
	}
	if !sc.host && !sc.visible && sc.invited == "" {
		return nil, notFound("session")
	}
	return sc, nil
}

func (s *core) hostSession(ctx context.Context, a *actor, r *http.Request) (*sessionCtx, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	sc, err := s.loadSession(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !sc.host {
		return nil, errNotHost
	}
	return sc, nil
}

func randomCode(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

type createSessionReq struct {
	Kind         string   `json:"kind"`
	Title        string   `json:"title"`
	ScheduledAt  string   `json:"scheduled_at"`
	Hosts        []string `json:"hosts"`
	CaucusPolicy string   `json:"caucus_policy"`
	RecordOnOpen *bool    `json:"record_on_open"`
}

func (s *sessionsAPI) createSession(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req createSessionReq
	c, err := s.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if !store.OneOf(req.Kind, store.SessionKinds) {
		return badRequest("kind must be mediation, reception or consultation")
	}
	req.Title = strings.TrimSpace(req.Title)
	if req.Title == "" {
		return badRequest("title is required")
	}
	if err := checkLen("title", req.Title, 200); err != nil {
		return err
	}
	if req.CaucusPolicy != "" && !store.OneOf(req.CaucusPolicy, store.CaucusPolicy) {
		return badRequest("caucus_policy must be off or sealed")
	}
	if c.Status == "closed" {
		return errf(http.StatusConflict, "conflict", "case %s is closed", c.Number)
	}
	var sched time.Time
	if req.ScheduledAt != "" {
		if sched, err = time.Parse(time.RFC3339, req.ScheduledAt); err != nil {
			return badRequest("scheduled_at must be an RFC 3339 time")
		}
	}
	if len(req.Hosts) > 10 {
		return badRequest("at most 10 hosts")
	}
	hosts := map[string]bool{}
	for _, h := range req.Hosts {
		st, err := s.st.Staff(ctx, h)
		if errors.Is(err, store.ErrNotFound) {
			return badRequest("host %q is not a staff member", h)
		}
		if err != nil {
			return err
		}
		if !st.Has("mediator") && !st.Has("leader") && !st.Has("admin") {
			return badRequest("host %q is not a mediator, leader or admin", h)
		}
		hosts[h] = true
	}
	if a.Has("mediator") || a.Has("leader") {
		hosts[a.Username] = true
	}
	if c.Mediator != "" {
		hosts[c.Mediator] = true
	}
	se := store.Session{CaseID: c.ID, Kind: req.Kind, Title: req.Title, ScheduledAt: sched, Room: "s-" + randomCode(10),
		CaucusPolicy: req.CaucusPolicy, RecordOnOpen: req.RecordOnOpen == nil || *req.RecordOnOpen, CreatedBy: a.Username}
	for h := range hosts {
		se.Hosts = append(se.Hosts, h)
	}
	se, err = s.st.CreateSession(ctx, se)
	if err != nil {
		return err
	}
	s.emit(event{name: "session", caseCentre: c.Centre, to: se.Hosts, data: map[string]any{"session_id": se.ID, "case_id": c.ID, "state": se.State}})
	writeJSON(w, http.StatusCreated, sessionView(se, c))
	return nil
}

func (s *sessionsAPI) listSessions(w http.ResponseWriter, r *http.Request, a *actor) error {
	state := r.URL.Query().Get("state")
	if state != "" && !store.OneOf(state, store.SessionStates) {
		return badRequest("state must be scheduled, live or ended")
	}
	ctx := r.Context()
	list, err := s.st.ListSessions(ctx, store.SessionFilter{Under: a.Centre, OrUser: a.Username, State: state})
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(list))
	cases := map[int64]store.Case{}
	for _, se := range list {
		c, ok := cases[se.CaseID]
		if !ok {
			if c, err = s.st.Case(ctx, se.CaseID); err != nil {
				return err
			}
			cases[se.CaseID] = c
		}
		out = append(out, sessionView(se, c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

func (s *sessionsAPI) getSession(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sc, err := s.loadSession(r.Context(), a, id)
	if err != nil {
		return err
	}
	out := struct {
		sessionJSON
		Invitations []invitationJSON `json:"invitations"`
	}{sessionJSON: sessionView(sc.sess, sc.cas), Invitations: []invitationJSON{}}
	if sc.host {
		invs, err := s.st.ListInvitations(r.Context(), sc.sess.ID)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			out.Invitations = append(out.Invitations, invitationView(inv, s.linkURL(r, inv.Code)))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createInvitationReq struct {
	Role      string `json:"role"`
	Name      string `json:"name"`
	Side      string `json:"side"`
	Party     int64  `json:"party"`
	ExpiresIn int64  `json:"expires_in"`
}

func (s *sessionsAPI) createInvitation(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	sc, err := s.hostSession(ctx, a, r)
	if err != nil {
		return err
	}
	var req createInvitationReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if !store.OneOf(req.Role, store.InviteRoles) {
		return badRequest("role must be one of %s", strings.Join(store.InviteRoles, ", "))
	}
	if req.Side != "" && !store.OneOf(req.Side, store.Sides) {
		return badRequest("side must be applicant or respondent")
	}
	if sc.sess.State == sessionEnded {
		return errf(http.StatusConflict, "conflict", "the session has ended")
	}
	if req.Party != 0 {
		var party *store.Party
		for i := range sc.cas.Parties {
			if sc.cas.Parties[i].ID == req.Party {
				party = &sc.cas.Parties[i]
			}
		}
		if party == nil {
			return badRequest("party %d is not a party of case %s", req.Party, sc.cas.Number)
		}
		if req.Side == "" {
			req.Side = party.Side
		} else if req.Side != party.Side {
			return badRequest("side %s does not match party %d (%s)", req.Side, req.Party, party.Side)
		}
		if req.Name == "" && req.Role == string(roleParty) {
			req.Name = party.Name
		}
	}
	if (req.Role == string(roleParty) || req.Role == string(roleAgent)) && req.Side == "" {
		return badRequest("a %s invitation needs a side or a party", req.Role)
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		return badRequest("name is required")
	}
	if err := checkLen("name", req.Name, 64); err != nil {
		return err
	}
	switch {
	case req.ExpiresIn == 0:
		req.ExpiresIn = 86400
	case req.ExpiresIn < 60 || req.ExpiresIn > 30*86400:
		return badRequest("expires_in must be between 60 seconds and 30 days")
	}
	if all, err := s.st.ListInvitations(ctx, sc.sess.ID); err != nil {
		return err
	} else if len(all) >= maxInvitationsPerSession {
		s.hits.invitations.Add(1)
		return errTooManyInvitations
	}
	inv := store.Invitation{Code: randomCode(16), SessionID: sc.sess.ID, Role: req.Role, Side: req.Side, Name: req.Name,
		PartyID: req.Party, ExpiresAt: s.now().Add(time.Duration(req.ExpiresIn) * time.Second), CreatedBy: a.Username}
	inv, err = s.st.CreateInvitation(ctx, inv)
	if err != nil {
		return err
	}
	s.caseEvent(ctx, evInvited.of(sc.cas.ID, sc.sess.ID, a.Username, guestIdentity(inv.ID),
		fields{"name": inv.Name, "role": inv.Role, "side": inv.Side, "expires": inv.ExpiresAt.UTC().Format(time.RFC3339)}))
	writeJSON(w, http.StatusCreated, invitationView(inv, s.linkURL(r, inv.Code)))
	return nil
}

func (s *sessionsAPI) listInvitations(w http.ResponseWriter, r *http.Request, a *actor) error {
	sc, err := s.hostSession(r.Context(), a, r)
	if err != nil {
		return err
	}
	invs, err := s.st.ListInvitations(r.Context(), sc.sess.ID)
	if err != nil {
		return err
	}
	out := make([]invitationJSON, 0, len(invs))
	for _, inv := range invs {
		out = append(out, invitationView(inv, s.linkURL(r, inv.Code)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": out})
	return nil
}

func (s *sessionsAPI) revokeInvitation(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	inv, err := s.st.Invitation(ctx, r.PathValue("code"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("invitation")
	}
	if err != nil {
		return err
	}
	sc, err := s.loadSession(ctx, a, inv.SessionID)
	if err != nil {
		return notFound("invitation")
	}
	if !sc.host {
		return errNotHost
	}
	if err := s.st.RevokeInvitation(ctx, inv.Code); err != nil {
		return err
	}
	ident := guestIdentity(inv.ID)
	if _, err := s.rooms.do(ctx, sc.sess.Room, func(ctx context.Context, room *liveRoom) (any, error) {
		if err := room.sendAway(ident); err == nil {
			room.log.Info("revoked invitation: participant removed", "identity", ident)
		}
		s.caseEvent(ctx, evRevoked.of(sc.cas.ID, sc.sess.ID, a.Username, ident, fields{"name": inv.Name}))
		return nil, nil
	}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
