package mediation

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"yizhan/signaling"
	"yizhan/store"
)

// joinAPI answers invitation links and hands out the tokens to join a room.
type joinAPI struct {
	*core
	// static after construction
	rooms    *liveRooms
	joinAddr *throttle // failed invitation look-ups per client address (throttle.go)
}

var errInvitation = errf(http.StatusNotFound, "invitation_invalid",
	"this invitation link is unknown, was revoked or has expired; ask the mediator for a new link")

// validInvitation resolves code to a usable invitation and its session. A valid code is
// never refused; every failure counts against the caller's address, whose failure
// answers are held back longer and longer (throttle.go).
func (s *joinAPI) validInvitation(r *http.Request, code string) (store.Invitation, store.Session, store.Case, error) {
	var inv store.Invitation
	var se store.Session
	var c store.Case
	now := s.now()
	ctx := r.Context()
	inv, err := s.st.Invitation(ctx, code)
	if err == nil && !inv.Valid(now) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) || len(code) > 64 {
		if err := s.failed(ctx, throttleKey{s.joinAddr, clientAddr(r)}); err != nil {
			s.log.Warn("invitation guessing: too many waiting", "addr", clientAddr(r))
			return inv, se, c, err
		}
		return inv, se, c, errInvitation
	}
	if err != nil {
		return inv, se, c, err
	}
	if se, err = s.st.Session(ctx, inv.SessionID); err != nil {
		return inv, se, c, err
	}
	if c, err = s.st.Case(ctx, se.CaseID); err != nil {
		return inv, se, c, err
	}
	return inv, se, c, nil
}

func (s *joinAPI) consentNotice(se store.Session) string {
	n := "本次" + map[string]string{"mediation": "调解", "reception": "接访", "consultation": "咨询"}[se.Kind] + "通过视频进行。"
	if se.RecordOnOpen {
		n += "联合会谈将全程录音录像并存入案卷，用作证据；录制前征得您的同意，您的选择会被记录。"
	}
	if se.CaucusPolicy == "sealed" {
		n += "单独会谈（背对背）将录制并密封保存，仅限授权人员查阅。"
	} else {
		n += "单独会谈（背对背）不录制，仅记录参加人员和时长。"
	}
	return n + "观察员可能在场，您会在参加人员名单中看到他们。"
}

func (s *joinAPI) joinInfo(w http.ResponseWriter, r *http.Request) error {
	inv, se, c, err := s.validInvitation(r, r.PathValue("code"))
	if err != nil {
		return err
	}
	centre, err := s.st.Centre(r.Context(), c.Centre)
	if err != nil {
		return err
	}
	invitedBy := ""
	if st, err := s.st.Staff(r.Context(), inv.CreatedBy); err == nil {
		invitedBy = st.Name
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"role": inv.Role, "side": inv.Side, "name": inv.Name, "invited_by": invitedBy,
		"session": map[string]any{"id": se.ID, "title": se.Title, "kind": se.Kind, "state": se.State,
			"scheduled_at": jsonTime(se.ScheduledAt), "caucus_policy": se.CaucusPolicy, "record_on_open": se.RecordOnOpen},
		"centre": centreView(centre),
		"notice": s.consentNotice(se),
	})
	return nil
}

type joinReq struct {
	Name    string `json:"name"`
	Consent *bool  `json:"consent"`
	Note    string `json:"note"` // what a petitioner writes on arrival
}

type joinJSON struct {
	URL      string      `json:"url"`
	Token    string      `json:"token"`
	Identity string      `json:"identity"`
	Session  sessionJSON `json:"session"`
}

func (s *joinAPI) joinByInvitation(w http.ResponseWriter, r *http.Request) error {
	var req joinReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if req.Consent == nil {
		return badRequest("consent (true or false) is required: the notice must be answered")
	}
	name := strings.TrimSpace(req.Name)
	if err := checkLen("name", name, 64); err != nil {
		return err
	}
	note := strings.TrimSpace(req.Note)
	if err := checkLen("note", note, 2000); err != nil {
		return err
	}
	inv, se, c, err := s.validInvitation(r, r.PathValue("code"))
	if err != nil {
		return err
	}
	if se.State == sessionEnded {
		return errf(http.StatusConflict, "conflict", "this session has ended")
	}
	if name == "" {
		name = inv.Name
	}
	ctx := r.Context()
	centre, err := s.st.Centre(ctx, c.Centre)
	if err != nil {
		return err
	}
	ident := guestIdentity(inv.ID)
	guest := who{Role: role(inv.Role), Side: inv.Side, Centre: centre.Code, Tier: centre.Tier, Session: se.ID, Consent: *req.Consent}
	if inv.PartyID != 0 {
		guest.Party = strconv.FormatInt(inv.PartyID, 10)
	}
	pub := guest.Role != roleObserver
	tok, err := s.rc.MintToken(signaling.TokenSpec{Room: se.Room, Identity: ident, Name: name, Attributes: guest.attributes(),
		TTL: s.cfg.TokenTTL, CanPublish: pub, CanSubscribe: true, CanPublishData: pub})
	if err != nil {
		return err
	}
	answer := "declined"
	if *req.Consent {
		answer = "accepted"
	}
	s.caseEvent(ctx, evConsent.of(c.ID, se.ID, ident, ident, fields{"name": name, "role": inv.Role, "answer": answer}))
	if note != "" {
		if _, err := s.rooms.do(ctx, se.Room, func(_ context.Context, room *liveRoom) (any, error) {
			room.setNote(ident, note)
			return nil, nil
		}); err != nil {
			return err
		}
		s.caseEvent(ctx, evNote.of(c.ID, se.ID, ident, ident, fields{"note": note}))
	}
	writeJSON(w, http.StatusOK, joinJSON{URL: s.signalURL(r), Token: tok, Identity: ident, Session: sessionView(se, c)})
	return nil
}

// staffSessionRole is the role attribute of staff joining sc: host, the role they were
// invited with, or what their own roles make them (observers cannot publish).
func staffSessionRole(a *actor, sc *sessionCtx) role {
	switch {
	case sc.host:
		return roleHost
	case sc.invited != "":
		return role(sc.invited)
	case a.Has(string(roleClerk)):
		return roleClerk
	case a.Has(string(roleMediator)):
		return roleMediator
	}
	return roleObserver
}

func (s *joinAPI) joinAsStaff(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct{}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	sc, err := s.loadSession(ctx, a, id)
	if err != nil {
		return err
	}
	if sc.sess.State == sessionEnded {
		return errf(http.StatusConflict, "conflict", "this session has ended")
	}
	staff := who{Role: staffSessionRole(a, sc), Centre: a.Centre, Tier: a.centre.Tier, Session: sc.sess.ID, Consent: true, Host: sc.host}
	pub := staff.Role != roleObserver
	tok, err := s.rc.MintToken(signaling.TokenSpec{Room: sc.sess.Room, Identity: a.identity(), Name: a.Name, Attributes: staff.attributes(),
		TTL: s.cfg.TokenTTL, CanPublish: pub, CanSubscribe: true, CanPublishData: pub})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, joinJSON{URL: s.signalURL(r), Token: tok, Identity: a.identity(), Session: sessionView(sc.sess, sc.cas)})
	return nil
}

// landing decides where a participant of session se lands, re-checking from the database
// what the token claimed: a revoked invitation or an ended session cannot join, whatever
// the token says. Staff hosts go straight to the joint space; everyone else waits in the
// lobby.
func (s *liveRooms) landing(ctx context.Context, se store.Session, identity string) (space string, err error) {
	if se.State == sessionEnded {
		return "", errors.New("the session has ended")
	}
	if rest, ok := strings.CutPrefix(identity, "guest-"); ok {
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return "", errors.New("unknown participant")
		}
		inv, err := s.st.InvitationByID(ctx, id)
		if err != nil || inv.SessionID != se.ID || !inv.Valid(s.now()) {
			return "", errors.New("invitation is unknown, revoked or expired")
		}
		return "", nil
	}
	if user, ok := strings.CutPrefix(identity, "staff-"); ok {
		a, err := s.actorFor(ctx, user)
		if err != nil {
			return "", errors.New("staff account is not active")
		}
		sc, err := s.loadSession(ctx, a, se.ID)
		if err != nil {
			return "", errors.New("not a participant of this session")
		}
		if sc.host {
			return jointSpace, nil
		}
		return "", nil
	}
	return "", errors.New("unknown participant")
}

// cleanAttrs drops empty values (LiveKit treats "" as delete).
func cleanAttrs(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}
