package mediation

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"yizhan/signaling"
	"yizhan/store"
)

// liveAPI serves the live view of a session and the hosts' controls, one handler each:
// POST /api/sessions/{id}/<control>. Each checks the caller and the request on the HTTP
// goroutine, refused as a whole before anything changes, then hands the change to the
// room's owner (liveRoom) and waits for its answer.
type liveAPI struct {
	*core
	rooms *liveRooms // static after construction
}

var spaceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func (s *liveAPI) live(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	sc, err := s.loadSession(ctx, a, id)
	if err != nil {
		return err
	}
	room := s.rooms.peek(sc.sess.Room) // nil: no owner, so no knocks, notes or pause
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
	}{Recording: s.rooms.recordingView(sc.sess.Room, sc.sess.ID), SessionID: sc.sess.ID, State: sc.sess.State, Room: sc.sess.Room, Lobby: []participantJSON{},
		Spaces: map[string][]participantJSON{}, Participants: []participantJSON{}, Absent: []map[string]string{}}
	here := map[string]bool{}
	for _, p := range ps {
		v := room.view(p, now)
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
	Lock     bool   `json:"lock"` // with mute: the party cannot unmute itself until a host unmutes it (mutelock.go)
}

// hostRequest is the prologue of a control: the session (hosts only), the body decoded
// into req, and no control of an ended session, in that order.
func (s *liveAPI) hostRequest(w http.ResponseWriter, r *http.Request, a *actor, req any, optional bool) (*sessionCtx, error) {
	sc, err := s.hostSession(r.Context(), a, r)
	if err != nil {
		return nil, err
	}
	if err := decode(w, r, req, optional); err != nil {
		return nil, err
	}
	if sc.sess.State == sessionEnded {
		return nil, errf(http.StatusConflict, "conflict", "the session has ended")
	}
	return sc, nil
}

// onRoom runs fn on the session's room goroutine, then brings the recording plan and the
// room metadata up to date there.
func (s *liveAPI) onRoom(ctx context.Context, sc *sessionCtx, fn func(ctx context.Context, r *liveRoom) (any, error)) (any, error) {
	return s.rooms.do(ctx, sc.sess.Room, func(ctx context.Context, r *liveRoom) (any, error) {
		if err := r.hosted(); err != nil {
			return nil, err
		}
		v, err := fn(ctx, r)
		if err == nil {
			r.replan()
			r.syncMeta(false)
		}
		return v, err
	})
}

// admit lets someone in from the lobby: into space, or where their party is.
func (s *liveAPI) admit(w http.ResponseWriter, r *http.Request, a *actor) error {
	return s.moveControl(w, r, a, evAdmit)
}

// move puts someone (and those linked to them) into another space.
func (s *liveAPI) move(w http.ResponseWriter, r *http.Request, a *actor) error {
	return s.moveControl(w, r, a, evMove)
}

func (s *liveAPI) moveControl(w http.ResponseWriter, r *http.Request, a *actor, kind timelineKind) error {
	var req controlReq
	sc, err := s.hostRequest(w, r, a, &req, false)
	if err != nil {
		return err
	}
	v, err := s.onRoom(r.Context(), sc, func(ctx context.Context, room *liveRoom) (any, error) {
		p, err := room.find(req.Identity)
		if err != nil {
			return nil, err
		}
		space := req.Space
		if space == "" {
			if kind == evMove {
				return nil, badRequest("space is required (joint or a caucus name); use lobby to send back")
			}
			space = room.partySpace(p) // an interpreter joins their party where it is
		}
		if !spaceRE.MatchString(space) {
			return nil, badRequest("space must be joint or a caucus name of a-z 0-9 -, at most 32")
		}
		moved, err := room.moveGroup(ctx, a, sc, p, space, kind)
		if err != nil {
			return nil, err
		}
		if kind == evAdmit {
			return moved[0], nil
		}
		return map[string]any{"moved": moved}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// lobby sends someone (and those linked to them) back to the lobby.
func (s *liveAPI) lobby(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req controlReq
	sc, err := s.hostRequest(w, r, a, &req, false)
	if err != nil {
		return err
	}
	v, err := s.onRoom(r.Context(), sc, func(ctx context.Context, room *liveRoom) (any, error) {
		p, err := room.find(req.Identity)
		if err != nil {
			return nil, err
		}
		moved, err := room.moveGroup(ctx, a, sc, p, lobbySpace, evLobby)
		if err != nil {
			return nil, err
		}
		return moved[0], nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// deny turns someone in the lobby away; with revoke their invitation too.
func (s *liveAPI) deny(w http.ResponseWriter, r *http.Request, a *actor) error {
	return s.sendAway(w, r, a, evDeny)
}

// remove takes someone out of the session (they may come back through the lobby).
func (s *liveAPI) remove(w http.ResponseWriter, r *http.Request, a *actor) error {
	return s.sendAway(w, r, a, evRemove)
}

func (s *liveAPI) sendAway(w http.ResponseWriter, r *http.Request, a *actor, kind timelineKind) error {
	var req controlReq
	sc, err := s.hostRequest(w, r, a, &req, false)
	if err != nil {
		return err
	}
	_, err = s.onRoom(r.Context(), sc, func(ctx context.Context, room *liveRoom) (any, error) {
		p, err := room.find(req.Identity)
		if err != nil {
			return nil, err
		}
		if kind == evDeny && req.Revoke {
			inv, err := s.invitationOf(ctx, sc, req.Identity)
			if err != nil {
				return nil, err
			}
			if err := s.st.RevokeInvitation(ctx, inv.Code); err != nil {
				return nil, err
			}
		}
		if err := room.sendAway(req.Identity); err != nil && !errors.Is(err, signaling.ErrNotFound) {
			return nil, err
		}
		s.caseEvent(ctx, kind.of(sc.cas.ID, sc.sess.ID, a.Username, req.Identity, fields{"name": p.Name, "role": string(whoOf(p).Role)}))
		room.liveEvent(sc, string(kind), req.Identity, "")
		return nil, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// mute mutes someone's microphone (or one track); muted:false unmutes; lock:true makes
// the mute stick until a host unmutes (mutelock.go).
func (s *liveAPI) mute(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req controlReq
	sc, err := s.hostRequest(w, r, a, &req, false)
	if err != nil {
		return err
	}
	if req.Lock && req.Muted != nil && !*req.Muted {
		return badRequest("lock goes with a mute: a host's unmute lifts the lock")
	}
	v, err := s.rooms.do(r.Context(), sc.sess.Room, func(ctx context.Context, room *liveRoom) (any, error) {
		if err := room.hosted(); err != nil {
			return nil, err
		}
		p, err := room.find(req.Identity)
		if err != nil {
			return nil, err
		}
		return room.mute(ctx, a, sc, p, req.TrackSID, req.Muted == nil || *req.Muted, req.Lock)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// end ends the session for everyone.
func (s *liveAPI) end(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req controlReq
	sc, err := s.hostRequest(w, r, a, &req, true)
	if err != nil {
		return err
	}
	v, err := s.rooms.do(r.Context(), sc.sess.Room, func(ctx context.Context, room *liveRoom) (any, error) {
		if err := room.hosted(); err != nil {
			return nil, err
		}
		return room.end(ctx, a, sc)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionView(v.(store.Session), sc.cas))
	return nil
}

// next admits the petitioner who has waited longest (receptions).
func (s *liveAPI) next(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req controlReq
	sc, err := s.hostRequest(w, r, a, &req, true)
	if err != nil {
		return err
	}
	v, err := s.onRoom(r.Context(), sc, func(ctx context.Context, room *liveRoom) (any, error) {
		return room.next(ctx, a, sc)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// recording is POST /api/sessions/{id}/recording {"action":"start"|"stop","reason"}: a
// host stops recording (with a reason, logged) or resumes it; the policy still applies.
func (s *liveAPI) recording(w http.ResponseWriter, r *http.Request, a *actor) error {
	sc, err := s.hostSession(r.Context(), a, r)
	if err != nil {
		return err
	}
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
	if sc.sess.State == sessionEnded {
		return errf(http.StatusConflict, "conflict", "the session has ended")
	}
	reason := strings.TrimSpace(req.Reason)
	switch req.Action {
	case "stop", "start":
	default:
		return badRequest("action must be start or stop")
	}
	v, err := s.rooms.do(r.Context(), sc.sess.Room, func(ctx context.Context, room *liveRoom) (any, error) {
		if err := room.hosted(); err != nil {
			return nil, err
		}
		if req.Action == "stop" {
			room.setPaused(pause{by: a.Username, reason: reason})
		} else {
			room.setPaused(pause{})
		}
		s.caseEvent(ctx, evRecording.of(sc.cas.ID, sc.sess.ID, a.Username, "", fields{"action": req.Action, "reason": reason}))
		awaitRecorder(room.replan()) // answer with the state after the call
		room.syncMeta(false)
		return s.rooms.recordingView(sc.sess.Room, sc.sess.ID), nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
