package mediation

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"yizhan/signaling"
	"yizhan/store"
)

// What the hosts do to a live room, on its goroutine (run): each is called by one
// handler of liveAPI (live.go) through liveRooms.do.

// hosted is called first by every control: the room must be a session that has not ended.
func (r *liveRoom) hosted() error {
	if !r.session() {
		return errf(http.StatusServiceUnavailable, "busy", "the session could not be loaded; try again")
	}
	if r.sess.State == sessionEnded {
		return errf(http.StatusConflict, "conflict", "the session has ended")
	}
	return nil
}

// find is identity's snapshot, or 404.
func (r *liveRoom) find(identity string) (signaling.Participant, error) {
	if identity == "" {
		return signaling.Participant{}, badRequest("identity is required")
	}
	p, ok := r.rooms.participant(r.name, identity)
	if !ok {
		return p, notFound("participant " + identity)
	}
	return p, nil
}

// partySpace is where p's party is, for an agent or interpreter linked to a party who
// is admitted late; otherwise the joint space.
func (r *liveRoom) partySpace(p signaling.Participant) string {
	w := whoOf(p)
	if w.Role.followsParty() && w.Party != "" {
		for _, q := range r.rooms.rc.Participants(r.name) {
			if qw := whoOf(q); qw.Role == roleParty && qw.Party == w.Party && q.Space != lobbySpace {
				return q.Space
			}
		}
	}
	return jointSpace
}

// linked are the agents and interpreters linked to p's party: they go where p goes.
func (r *liveRoom) linked(p signaling.Participant) []signaling.Participant {
	w := whoOf(p)
	if w.Role != roleParty || w.Party == "" {
		return nil
	}
	var out []signaling.Participant
	for _, q := range r.rooms.rc.Participants(r.name) {
		if q.Identity != p.Identity && whoOf(q).linkedTo(w.Party) {
			out = append(out, q)
		}
	}
	return out
}

// moveGroup puts p (and those linked to it) into space ("" = lobby), says so in their
// attributes and on the case timeline.
func (r *liveRoom) moveGroup(ctx context.Context, a *actor, sc *sessionCtx, p signaling.Participant, space string, kind timelineKind) ([]participantJSON, error) {
	rs := r.rooms
	group := append([]signaling.Participant{p}, r.linked(p)...)
	if rs.cfg.Recorder != nil {
		ids := make([]string, len(group))
		for i, q := range group {
			ids[i] = q.Identity
		}
		rs.cfg.Recorder.BeforeMove(sc.sess.ID, ids)
	}
	var out []participantJSON
	for _, q := range group {
		if err := rs.rc.SetSpace(r.name, q.Identity, space); err != nil {
			if errors.Is(err, signaling.ErrNotFound) {
				continue // left meanwhile
			}
			return nil, err
		}
		if space == "" {
			r.knock(q, q.SID)
		} else {
			r.unknock(q.Identity, "")
			if sc.sess.Kind == kindReception {
				_ = rs.st.MarkAdmitted(ctx, sc.sess.ID, q.Identity, rs.now())
			}
		}
		rs.caseEvent(ctx, kind.of(sc.cas.ID, sc.sess.ID, a.Username, q.Identity, moved(q, space)))
		r.liveEvent(sc, string(kind), q.Identity, space)
		if now, ok := rs.participant(r.name, q.Identity); ok {
			out = append(out, r.view(now, rs.now()))
		}
	}
	if len(out) == 0 {
		return nil, notFound("participant " + p.Identity)
	}
	return out, nil
}

func (r *liveRoom) liveEvent(sc *sessionCtx, kind, identity, space string) {
	rs := r.rooms
	rs.emit(event{name: "live", to: rs.sessionStaffNames(sc.sess), adminsOf: sc.cas.Centre,
		data: map[string]any{"session_id": sc.sess.ID, "kind": kind, "identity": identity, "space": space}})
}

// sendAway removes identity from the room for good (deny, remove, revoke, an outcome
// filed): no rejoin grace.
func (r *liveRoom) sendAway(identity string) error {
	r.noRejoin(identity)
	err := r.rooms.rc.RemoveParticipant(r.name, identity)
	r.unknock(identity, "")
	return err
}

// mute mutes (or unmutes) p's audio, or the one track trackSID; lock makes a mute stick,
// and an unmute lifts a lock (mutelock.go).
func (r *liveRoom) mute(ctx context.Context, a *actor, sc *sessionCtx, p signaling.Participant, trackSID string, muted, lock bool) (participantJSON, error) {
	rs := r.rooms
	var sids []string
	for _, t := range p.Tracks {
		if (trackSID == "" && t.Kind == "audio") || t.SID == trackSID {
			sids = append(sids, t.SID)
		}
	}
	if trackSID != "" && len(sids) == 0 {
		return participantJSON{}, notFound("track " + trackSID)
	}
	if lock || !muted {
		if err := rs.lockMute(r.name, p, lockSources(p, trackSID), lock); err != nil {
			return participantJSON{}, err
		}
	}
	for _, sid := range sids {
		if err := rs.rc.MuteTrack(r.name, p.Identity, sid, muted); err != nil && !errors.Is(err, signaling.ErrNotFound) {
			return participantJSON{}, err
		}
	}
	on := "0"
	if muted {
		on = "1"
	}
	rs.caseEvent(ctx, evMute.of(sc.cas.ID, sc.sess.ID, a.Username, p.Identity, fields{"name": p.Name, "muted": on, "locked": boolField(lock), "tracks": strconv.Itoa(len(sids))}))
	r.liveEvent(sc, "mute", p.Identity, p.Space)
	now, _ := rs.participant(r.name, p.Identity)
	return r.view(now, rs.now()), nil
}

// end ends the session: everyone is disconnected, the case file is sealed.
func (r *liveRoom) end(ctx context.Context, a *actor, sc *sessionCtx) (store.Session, error) {
	rs := r.rooms
	if err := rs.st.SetSessionState(ctx, sc.sess.ID, sessionEnded); err != nil {
		return store.Session{}, err
	}
	r.sess.State = sessionEnded
	if err := rs.rc.CloseRoom(r.name); err != nil && !errors.Is(err, signaling.ErrNotFound) {
		r.log.Warn("close room", "err", err)
	}
	r.forget()
	rs.caseEvent(ctx, evEnd.of(sc.cas.ID, sc.sess.ID, a.Username, "", fields{"title": sc.sess.Title}))
	rs.emit(event{name: "session", to: rs.sessionStaffNames(sc.sess), caseCentre: sc.cas.Centre,
		data: map[string]any{"session_id": sc.sess.ID, "case_id": sc.cas.ID, "state": sessionEnded}})
	if rs.cfg.Recorder != nil {
		rs.cfg.Recorder.Ended(sc.sess.ID, sc.cas.ID, sc.sess.Room)
	}
	return rs.st.Session(ctx, sc.sess.ID)
}

// next admits the petitioner who has waited longest, once the previous one is done.
func (r *liveRoom) next(ctx context.Context, a *actor, sc *sessionCtx) (participantJSON, error) {
	rs := r.rooms
	inLobby := map[string]signaling.Participant{}
	for _, p := range rs.rc.Participants(r.name) {
		if p.Space == jointSpace && whoOf(p).Role == roleParty {
			return participantJSON{}, errf(http.StatusConflict, "petitioner_present", "%s is still in the conversation: file the outcome first", p.Name)
		}
		if p.Space == lobbySpace && whoOf(p).Role == roleParty {
			inLobby[p.Identity] = p
		}
	}
	queue, err := rs.st.Queue(ctx, sc.sess.ID)
	if err != nil {
		return participantJSON{}, err
	}
	for _, e := range queue {
		if p, ok := inLobby[e.Identity]; ok {
			moved, err := r.moveGroup(ctx, a, sc, p, jointSpace, evAdmit)
			if err != nil {
				return participantJSON{}, err
			}
			return moved[0], nil
		}
	}
	return participantJSON{}, errf(http.StatusConflict, "queue_empty", "nobody is waiting")
}
