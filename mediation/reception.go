package mediation

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// invitationOf returns the invitation behind guest identity of session sc.
func (s *core) invitationOf(ctx context.Context, sc *sessionCtx, identity string) (store.Invitation, error) {
	rest, ok := strings.CutPrefix(identity, "guest-")
	id, err := strconv.ParseInt(rest, 10, 64)
	if !ok || err != nil {
		return store.Invitation{}, badRequest("%s is not an invited guest", identity)
	}
	inv, err := s.st.InvitationByID(ctx, id)
	if err != nil || inv.SessionID != sc.sess.ID {
		return store.Invitation{}, notFound("guest " + identity)
	}
	return inv, nil
}

type outcomeReq struct {
	Identity  string `json:"identity"`
	Note      string `json:"note"`
	Case      int64  `json:"case"`
	Title     string `json:"title"`
	Category  string `json:"category"`
	Risk      string `json:"risk"`
	Supervise *struct {
		Unit     string `json:"unit"`
		Deadline string `json:"deadline"`
	} `json:"supervise"`
}

func parseDeadline(v string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

// outcome files the end of one conversation into an existing or a new case, with an
// optional supervision item, then lets the petitioner (and anyone linked) go.
func (s *liveAPI) outcome(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	sc, err := s.hostSession(ctx, a, r)
	if err != nil {
		return err
	}
	var req outcomeReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	req.Note = strings.TrimSpace(req.Note)
	if req.Identity == "" || req.Note == "" {
		return badRequest("identity and note are required")
	}
	if err := checkLen("note", req.Note, 10000); err != nil {
		return err
	}
	inv, err := s.invitationOf(ctx, sc, req.Identity)
	if err != nil {
		return err
	}
	o := store.Outcome{SessionID: sc.sess.ID, Identity: req.Identity, Note: req.Note, Actor: a.Username, CaseID: req.Case}
	if req.Supervise != nil {
		dl, err := parseDeadline(req.Supervise.Deadline)
		if err != nil || strings.TrimSpace(req.Supervise.Unit) == "" {
			return badRequest("supervise needs a unit and a deadline (YYYY-MM-DD or RFC 3339)")
		}
		o.Supervise = &store.Supervision{Unit: strings.TrimSpace(req.Supervise.Unit), Deadline: dl}
	}
	if req.Case == 0 { // a booked reception files into the booking's case
		if o.CaseID, err = s.st.BookedCase(ctx, inv.ID); err != nil {
			return err
		}
	}
	if req.Case != 0 {
		if _, err := s.visibleCase(ctx, a, req.Case); err != nil {
			return err
		}
	} else if o.CaseID == 0 {
		nc := store.Case{Title: strings.TrimSpace(req.Title), Category: req.Category, Risk: req.Risk, Centre: sc.cas.Centre,
			CreatedBy: a.Username, Description: req.Note, Parties: []store.Party{{Name: inv.Name, Side: "applicant"}}}
		if nc.Title == "" {
			nc.Title = "来访：" + inv.Name
		}
		if nc.Category == "" {
			nc.Category = "other"
		}
		if nc.Risk == "" {
			nc.Risk = "blue"
		}
		nc.Channel = "video" // a reception is a video conversation (视频接访, 视频反映)
		if err := validateCaseFields(nc); err != nil {
			return err
		}
		o.NewCase = nc
	}
	type filed struct {
		c   store.Case
		sup *store.Supervision
	}
	v, err := s.rooms.do(ctx, sc.sess.Room, func(ctx context.Context, room *liveRoom) (any, error) {
		c, sup, err := s.st.FileOutcome(ctx, o)
		if err != nil {
			return nil, err
		}
		if p, ok := s.participant(sc.sess.Room, req.Identity); ok {
			for _, q := range append([]signaling.Participant{p}, room.linked(p)...) {
				if err := room.sendAway(q.Identity); err != nil && !errors.Is(err, signaling.ErrNotFound) {
					room.log.Warn("remove after outcome", "identity", q.Identity, "err", err)
				}
			}
		}
		if c.ID != sc.cas.ID {
			s.caseEvent(ctx, evOutcome.of(sc.cas.ID, sc.sess.ID, a.Username, req.Identity, fields{"name": inv.Name, "case": c.Number}))
		}
		room.liveEvent(sc, "remove", req.Identity, "")
		return filed{c, sup}, nil
	})
	if err != nil {
		return err
	}
	c, sup := v.(filed).c, v.(filed).sup
	s.publishCase(c, "updated")
	n, err := s.names(ctx, c)
	if err != nil {
		return err
	}
	out := map[string]any{"case": caseView(c, n), "supervision": nil}
	if sup != nil {
		out["supervision"] = supervisionView(*sup)
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

var staffSessionRoles = []string{"judge", "lawyer", "counsellor", "expert", "mediator", "clerk", "observer"}

// inviteStaff pulls a judge, lawyer, counsellor, ... into the session.
func (s *liveAPI) inviteStaff(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	sc, err := s.hostSession(ctx, a, r)
	if err != nil {
		return err
	}
	var req struct {
		Username string `json:"username"`
		Role     string `json:"role"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if sc.sess.State == sessionEnded {
		return errf(http.StatusConflict, "conflict", "the session has ended")
	}
	st, err := s.st.Staff(ctx, req.Username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.Disabled) {
		return badRequest("no active staff member %q", req.Username)
	}
	if err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = string(roleObserver)
		for _, r := range staffSessionRoles {
			if st.Has(r) {
				req.Role = r
				break
			}
		}
	}
	if !store.OneOf(req.Role, staffSessionRoles) {
		return badRequest("role must be one of %s", strings.Join(staffSessionRoles, ", "))
	}
	if err := s.st.AddSessionStaff(ctx, store.SessionStaff{SessionID: sc.sess.ID, Username: st.Username, Role: req.Role, InvitedBy: a.Username, InvitedAt: s.now()}); err != nil {
		return err
	}
	s.caseEvent(ctx, evStaffInvited.of(sc.cas.ID, sc.sess.ID, a.Username, "staff-"+st.Username, fields{"name": st.Name, "role": req.Role, "centre": st.Centre}))
	s.emit(event{name: "invited", to: []string{st.Username}, data: map[string]any{
		"session_id": sc.sess.ID, "case_id": sc.cas.ID, "title": sc.sess.Title, "role": req.Role, "by": a.Username}})
	writeJSON(w, http.StatusOK, map[string]string{"username": st.Username, "role": req.Role})
	return nil
}
