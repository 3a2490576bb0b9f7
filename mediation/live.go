package mediation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"

	"yizhan/signaling"
	"yizhan/store"
)

var spaceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func (s *Service) live(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	sc, err := s.loadSession(ctx, a, id)
	if err != nil {
		return err
	}
	ps := s.rc.Participants(sc.sess.Room)
	now := s.now()
	out := struct {
		SessionID    int64                        `json:"session_id"`
		State        string                       `json:"state"`
		Room         string                       `json:"room"`
		Lobby        []participantJSON            `json:"lobby"`
		Spaces       map[string][]participantJSON `json:"spaces"`
		Participants []participantJSON            `json:"participants"`
		Absent       []map[string]string          `json:"absent"`
		Recording    recordingJSON                `json:"recording"`
	}{Recording: s.recordingView(sc.sess.ID), SessionID: sc.sess.ID, State: sc.sess.State, Room: sc.sess.Room, Lobby: []participantJSON{},
		Spaces: map[string][]participantJSON{}, Participants: []participantJSON{}, Absent: []map[string]string{}}
	here := map[string]bool{}
	for _, p := range ps {
		v := s.view(sc.sess.Room, p)
		here[p.Identity] = true
		out.Participants = append(out.Participants, v)
		if v.Lobby {
			out.Lobby = append(out.Lobby, v)
		} else {
			out.Spaces[p.Space] = append(out.Spaces[p.Space], v)
		}
	}
	sort.SliceStable(out.Lobby, func(i, j int) bool { return out.Lobby[i].WaitingSeconds > out.Lobby[j].WaitingSeconds })
	invs, err := s.st.ListInvitations(ctx, sc.sess.ID)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if id := guestIdentity(inv.ID); inv.Valid(now) && !here[id] {
			out.Absent = append(out.Absent, map[string]string{"identity": id, "name": inv.Name, "role": inv.Role, "side": inv.Side})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type controlReq struct {
	Identity string `json:"identity"`
	Space    string `json:"space"`
	Revoke   bool   `json:"revoke"`
	TrackSID string `json:"track_sid"`
	Muted    *bool  `json:"muted"`
	Lock     bool   `json:"lock"` // with mute: the party cannot unmute itself until a host unmutes it
}

// hostControl serves POST /api/sessions/{id}/<control>: hosts only, refused as a whole
// before anything changes.
func (s *Service) hostControl(control string) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, a *actor) error {
		ctx := r.Context()
		sc, err := s.hostSession(ctx, a, r)
		if err != nil {
			return err
		}
		switch control {
		case "outcome":
			return s.outcome(w, r, a, sc)
		case "invite-staff":
			return s.inviteStaff(w, r, a, sc)
		case "recording":
			var req struct {
				Action string `json:"action"`
				Reason string `json:"reason"`
			}
			if err := decode(w, r, &req, false); err != nil {
				return err
			}
			if err := checkLen("reason", req.Reason, 500); err != nil {
				return err
			}
			if sc.sess.State == "ended" {
				return errf(http.StatusConflict, "conflict", "the session has ended")
			}
			return s.recordingControl(w, ctx, a, sc, req.Action, req.Reason)
		}
		var req controlReq
		optional := control == "end" || control == "next"
		if err := decode(w, r, &req, optional); err != nil {
			return err
		}
		if sc.sess.State == "ended" {
			return errf(http.StatusConflict, "conflict", "the session has ended")
		}
		switch control {
		case "end":
			return s.end(w, ctx, a, sc)
		case "next":
			return s.next(w, ctx, a, sc)
		}
		if req.Identity == "" {
			return badRequest("identity is required")
		}
		p, ok := s.participant(sc.sess.Room, req.Identity)
		if !ok {
			return notFound("participant " + req.Identity)
		}
		switch control {
		case "admit", "move":
			if req.Space == "" {
				if control == "move" {
					return badRequest("space is required (joint or a caucus name); use lobby to send back")
				}
				req.Space = s.partySpace(sc.sess.Room, p) // an interpreter joins their party where it is
			}
			if !spaceRE.MatchString(req.Space) {
				return badRequest("space must be joint or a caucus name of a-z 0-9 -, at most 32")
			}
			moved, err := s.moveGroup(ctx, a, sc, p, req.Space, control)
			if err != nil {
				return err
			}
			if control == "admit" {
				writeJSON(w, http.StatusOK, moved[0])
			} else {
				writeJSON(w, http.StatusOK, map[string]any{"moved": moved})
			}
		case "lobby":
			moved, err := s.moveGroup(ctx, a, sc, p, "", "lobby")
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, moved[0])
		case "deny", "remove":
			if control == "deny" && req.Revoke {
				if err := s.revokeByIdentity(ctx, sc, req.Identity); err != nil {
					return err
				}
			}
			s.noRejoin(sc.sess.Room, req.Identity)
			if err := s.rc.RemoveParticipant(sc.sess.Room, req.Identity); err != nil && !errors.Is(err, signaling.ErrNotFound) {
				return err
			}
			s.unknock(sc.sess.Room, req.Identity, "")
			s.caseEvent(ctx, store.Event{CaseID: sc.cas.ID, Kind: control, Actor: a.Username, SessionID: sc.sess.ID, Subject: req.Identity,
				Detail: fmt.Sprintf("%s %s (%s)", map[string]string{"deny": "denied entry to", "remove": "removed"}[control], p.Name, p.Attributes["role"])})
			s.liveEvent(sc, control, req.Identity, "")
			writeJSON(w, http.StatusOK, struct{}{})
		case "mute":
			return s.mute(w, ctx, a, sc, p, req)
		default:
			return notFound("control")
		}
		s.replan(sc.sess)
		s.syncRoomMeta(sc.sess, false)
		return nil
	}
}

func (s *Service) participant(room, identity string) (signaling.Participant, bool) {
	for _, p := range s.rc.Participants(room) {
		if p.Identity == identity {
			return p, true
		}
	}
	return signaling.Participant{}, false
}

// partySpace is where p's party is, for an agent or interpreter linked to a party who
// is admitted late; otherwise the joint space.
func (s *Service) partySpace(room string, p signaling.Participant) string {
	role, party := p.Attributes["role"], p.Attributes["party"]
	if (role == "agent" || role == "interpreter") && party != "" {
		for _, q := range s.rc.Participants(room) {
			if q.Attributes["role"] == "party" && q.Attributes["party"] == party && q.Space != "" {
				return q.Space
			}
		}
	}
	return jointSpace
}

// linked are the agents and interpreters linked to p's party: they go where p goes.
func (s *Service) linked(room string, p signaling.Participant) []signaling.Participant {
	party := p.Attributes["party"]
	if p.Attributes["role"] != "party" || party == "" {
		return nil
	}
	var out []signaling.Participant
	for _, q := range s.rc.Participants(room) {
		if q.Identity != p.Identity && q.Attributes["party"] == party && (q.Attributes["role"] == "agent" || q.Attributes["role"] == "interpreter") {
			out = append(out, q)
		}
	}
	return out
}

// moveGroup puts p (and those linked to it) into space ("" = lobby), says so in their
// attributes and on the case timeline.
func (s *Service) moveGroup(ctx context.Context, a *actor, sc *sessionCtx, p signaling.Participant, space, kind string) ([]participantJSON, error) {
	room := sc.sess.Room
	group := append([]signaling.Participant{p}, s.linked(room, p)...)
	if s.cfg.Recorder != nil {
		ids := make([]string, len(group))
		for i, q := range group {
			ids[i] = q.Identity
		}
		s.cfg.Recorder.BeforeMove(sc.sess.ID, ids)
	}
	var out []participantJSON
	for _, q := range group {
		if err := s.rc.SetSpace(room, q.Identity, space); err != nil {
			if errors.Is(err, signaling.ErrNotFound) {
				continue // left meanwhile
			}
			return nil, err
		}
		lobby := ""
		if space == "" {
			lobby = "1"
		}
		if err := s.rc.SetAttributes(room, q.Identity, map[string]string{"space": space, "lobby": lobby}); err != nil && !errors.Is(err, signaling.ErrNotFound) {
			return nil, err
		}
		if space == "" {
			s.knock(sc.sess, q, q.SID)
		} else {
			s.unknock(room, q.Identity, "")
			if sc.sess.Kind == "reception" {
				_ = s.st.MarkAdmitted(ctx, sc.sess.ID, q.Identity, s.now())
			}
		}
		where := "into " + space
		if space == "" {
			where = "back to the lobby"
		}
		s.caseEvent(ctx, store.Event{CaseID: sc.cas.ID, Kind: kind, Actor: a.Username, SessionID: sc.sess.ID, Subject: q.Identity,
			Detail: fmt.Sprintf("%s %s (%s %s) %s", map[string]string{"admit": "admitted", "move": "moved", "lobby": "sent"}[kind],
				q.Name, q.Attributes["role"], q.Attributes["side"], where)})
		s.liveEvent(sc, kind, q.Identity, space)
		if now, ok := s.participant(room, q.Identity); ok {
			out = append(out, s.view(room, now))
		}
	}
	if len(out) == 0 {
		return nil, notFound("participant " + p.Identity)
	}
	return out, nil
}

func (s *Service) liveEvent(sc *sessionCtx, kind, identity, space string) {
	s.emit(event{name: "live", to: s.sessionStaffNames(sc.sess), adminsOf: sc.cas.Centre,
		data: map[string]any{"session_id": sc.sess.ID, "kind": kind, "identity": identity, "space": space}})
}

func (s *Service) mute(w http.ResponseWriter, ctx context.Context, a *actor, sc *sessionCtx, p signaling.Participant, req controlReq) error {
	muted := req.Muted == nil || *req.Muted
	if req.Lock && !muted {
		return badRequest("lock goes with a mute: a host's unmute lifts the lock")
	}
	var sids []string
	for _, t := range p.Tracks {
		if (req.TrackSID == "" && t.Kind == "audio") || t.SID == req.TrackSID {
			sids = append(sids, t.SID)
		}
	}
	if req.TrackSID != "" && len(sids) == 0 {
		return notFound("track " + req.TrackSID)
	}
	sources := lockSources(p, req.TrackSID)
	if req.Lock || !muted { // a host's unmute lifts a lock (mutelock.go)
		if err := s.lockMute(sc.sess.Room, p, sources, req.Lock); err != nil {
			return err
		}
	}
	for _, sid := range sids {
		if err := s.rc.MuteTrack(sc.sess.Room, p.Identity, sid, muted); err != nil && !errors.Is(err, signaling.ErrNotFound) {
			return err
		}
	}
	verb := "muted"
	switch {
	case !muted:
		verb = "unmuted"
	case req.Lock:
		verb = "muted and locked"
	}
	s.caseEvent(ctx, store.Event{CaseID: sc.cas.ID, Kind: "mute", Actor: a.Username, SessionID: sc.sess.ID, Subject: p.Identity,
		Detail: fmt.Sprintf("%s %s (%d tracks)", verb, p.Name, len(sids))})
	s.liveEvent(sc, "mute", p.Identity, p.Space)
	now, _ := s.participant(sc.sess.Room, p.Identity)
	writeJSON(w, http.StatusOK, s.view(sc.sess.Room, now))
	return nil
}

func (s *Service) end(w http.ResponseWriter, ctx context.Context, a *actor, sc *sessionCtx) error {
	if err := s.st.SetSessionState(ctx, sc.sess.ID, "ended"); err != nil {
		return err
	}
	if err := s.rc.CloseRoom(sc.sess.Room); err != nil && !errors.Is(err, signaling.ErrNotFound) {
		s.log.Warn("close room", "room", sc.sess.Room, "err", err)
	}
	s.forgetRoom(sc.sess.Room)
	s.mu.Lock()
	delete(s.paused, sc.sess.ID)
	s.mu.Unlock()
	s.caseEvent(ctx, store.Event{CaseID: sc.cas.ID, Kind: "end", Actor: a.Username, SessionID: sc.sess.ID, Detail: "ended the session " + sc.sess.Title})
	s.emit(event{name: "session", to: s.sessionStaffNames(sc.sess), caseCentre: sc.cas.Centre,
		data: map[string]any{"session_id": sc.sess.ID, "case_id": sc.cas.ID, "state": "ended"}})
	if s.cfg.Recorder != nil {
		s.cfg.Recorder.Ended(sc.sess.ID, sc.cas.ID, sc.sess.Room)
	}
	se, err := s.st.Session(ctx, sc.sess.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionView(se, sc.cas))
	return nil
}

// revokeByIdentity revokes the invitation behind a guest identity of this session.
func (s *Service) revokeByIdentity(ctx context.Context, sc *sessionCtx, identity string) error {
	inv, err := s.invitationOf(ctx, sc, identity)
	if err != nil {
		return err
	}
	return s.st.RevokeInvitation(ctx, inv.Code)
}
