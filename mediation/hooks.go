package mediation

import (
	"errors"
	"fmt"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// Joining implements signaling.Hooks: it decides where a participant lands. Rooms that
// are not sessions (tokens minted by `yizhan token`) are plain rooms.
func (s *Service) Joining(room string, p signaling.Participant) (string, error) {
	ctx, cancel := bg()
	defer cancel()
	se, err := s.st.SessionByRoom(ctx, room)
	if errors.Is(err, store.ErrNotFound) {
		return signaling.DefaultSpace, nil
	}
	if err != nil {
		return "", fmt.Errorf("session look-up failed")
	}
	space, err := s.landing(ctx, se, p.Identity)
	if err != nil {
		s.log.Info("join refused", "room", room, "identity", p.Identity, "err", err)
		return "", err
	}
	if back := s.takeRejoin(room, p.Identity); back != "" {
		return back, nil
	}
	// A reconnect that evicts its own older connection (still in the room): same place.
	for _, q := range s.rc.Participants(room) {
		if q.Identity == p.Identity && q.Space != "" {
			return q.Space, nil
		}
	}
	return space, nil
}

// Rejoin grace: a network drop is not a new arrival.

func rejoinKey(room, identity string) string { return room + "\x00" + identity }

// noRejoin marks identity as sent away by a host: its coming "left" leaves no grace.
func (s *Service) noRejoin(room, identity string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := rejoinKey(room, identity)
	s.removed[k] = true
	delete(s.rejoin, k)
}

// leftFrom remembers where someone who dropped out was, unless a host sent them away.
func (s *Service) leftFrom(room, identity, space string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := rejoinKey(room, identity)
	if s.removed[k] || space == "" || s.cfg.RejoinGrace < 0 {
		delete(s.removed, k)
		return
	}
	now := s.now()
	for k2, r := range s.rejoin { // bounded by sweeping the stale
		if now.After(r.until) {
			delete(s.rejoin, k2)
		}
	}
	s.rejoin[k] = rejoinRec{space: space, until: now.Add(s.cfg.RejoinGrace)}
}

func (s *Service) takeRejoin(room, identity string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := rejoinKey(room, identity)
	r, ok := s.rejoin[k]
	delete(s.rejoin, k)
	if !ok || s.now().After(r.until) {
		return ""
	}
	return r.space
}

// Event implements signaling.Hooks: it records joins and leaves on the case timeline,
// knocks for arrivals in the lobby, keeps the reception queue and the recording plan.
func (s *Service) Event(ev signaling.Event) {
	ctx, cancel := bg()
	defer cancel()
	se, err := s.st.SessionByRoom(ctx, ev.Room)
	if err != nil {
		return
	}
	p := ev.Participant
	attrs := p.Attributes
	sessID := se.ID
	live := func(kind string) {
		s.emit(event{name: "live", to: s.sessionStaffNames(se), adminsOf: s.centreOfCase(ctx, se.CaseID),
			data: map[string]any{"session_id": sessID, "kind": kind, "identity": ev.Identity, "space": p.Space}})
	}
	switch ev.Kind {
	case signaling.EventJoined:
		lobby := ""
		if p.Space == "" {
			lobby = "1"
		}
		// the attributes say where everyone is, whatever the token carried
		// and whether a host's mute lock holds them (mutelock.go), whatever the token carried
		if err := s.rc.SetAttributes(ev.Room, ev.Identity, map[string]string{"space": p.Space, "lobby": lobby, muteLockedAttr: lockedAttr(p)}); err != nil {
			s.log.Warn("set attributes", "room", ev.Room, "identity", ev.Identity, "err", err)
		}
		s.replan(se) // opens the case file before the join is logged into it
		if se.State == "scheduled" {
			if err := s.st.SetSessionState(ctx, se.ID, "live"); err == nil {
				se.State = "live"
				s.emit(event{name: "session", to: se.Hosts, caseCentre: s.centreOfCase(ctx, se.CaseID),
					data: map[string]any{"session_id": se.ID, "case_id": se.CaseID, "state": "live"}})
			}
		}
		where := "into " + p.Space
		if p.Space == "" {
			where = "into the lobby"
			s.knock(se, p, ev.SID)
			if se.Kind == "reception" && attrs["role"] == "party" {
				if _, err := s.st.Arrive(ctx, store.ReceptionEntry{SessionID: se.ID, Identity: ev.Identity, Name: p.Name, ArrivedAt: s.now()}); err != nil {
					s.log.Error("reception arrival", "err", err)
				}
			}
		}
		s.caseEvent(ctx, store.Event{CaseID: se.CaseID, Kind: "join", Actor: ev.Identity, SessionID: se.ID, Subject: ev.Identity,
			Detail: fmt.Sprintf("%s (%s %s) joined %s", p.Name, attrs["role"], attrs["side"], where)})
		live("joined")
	case signaling.EventLeft:
		if s.present(ev.Room, ev.Identity, ev.SID) {
			return // an older connection of someone who rejoined
		}
		s.unknock(ev.Room, ev.Identity, ev.SID)
		s.leftFrom(ev.Room, ev.Identity, p.Space)
		s.caseEvent(ctx, store.Event{CaseID: se.CaseID, Kind: "leave", Actor: ev.Identity, SessionID: se.ID, Subject: ev.Identity,
			Detail: fmt.Sprintf("%s left (%s)", p.Name, ev.Reason)})
		live("left")
	case signaling.EventTrackPublished, signaling.EventTrackUnpublished, signaling.EventMuted, signaling.EventUnmuted:
		live("track")
	case signaling.EventQuality:
		// The case file notes a lost link (and its return) while it records:
		// a party who heard nothing for a while may say so later.
		switch {
		case ev.Quality == "lost":
			s.caseEvent(ctx, store.Event{CaseID: se.CaseID, Kind: "link_lost", Actor: ev.Identity, SessionID: se.ID, Subject: ev.Identity,
				Detail: fmt.Sprintf("%s's connection was lost", p.Name)})
		case ev.Reason == "lost":
			s.caseEvent(ctx, store.Event{CaseID: se.CaseID, Kind: "link_restored", Actor: ev.Identity, SessionID: se.ID, Subject: ev.Identity,
				Detail: fmt.Sprintf("%s's connection came back (%s)", p.Name, ev.Quality)})
		}
		live("quality")
		return
	default:
		return
	}
	s.replan(se)
	s.syncRoomMeta(se, ev.Kind == signaling.EventJoined)
}

// present reports whether identity is in the room with a connection other than sid.
func (s *Service) present(room, identity, sid string) bool {
	for _, q := range s.rc.Participants(room) {
		if q.Identity == identity && q.SID != sid {
			return true
		}
	}
	return false
}

// knock records an arrival in the lobby and tells the hosts: people forget to knock, so
// arriving is knocking.
func (s *Service) knock(se store.Session, p signaling.Participant, sid string) {
	now := s.now()
	s.mu.Lock()
	if s.knocks[se.Room] == nil {
		s.knocks[se.Room] = map[string]knockRec{}
	}
	if _, ok := s.knocks[se.Room][p.Identity]; ok || len(s.knocks[se.Room]) < maxKnocksPerSession {
		s.knocks[se.Room][p.Identity] = knockRec{sid: sid, at: now}
	} else {
		s.hits.knocks.Add(1) // still in the lobby and listed by signaling; only its arrival time is not kept
	}
	s.mu.Unlock()
	ctx, cancel := bg()
	defer cancel()
	s.emit(event{name: "knock", to: s.hostNames(se), adminsOf: s.centreOfCase(ctx, se.CaseID), data: map[string]any{
		"session_id": se.ID, "room": se.Room, "identity": p.Identity, "name": p.Name,
		"role": p.Attributes["role"], "side": p.Attributes["side"], "at": now.Format(time.RFC3339)}})
}

// unknock forgets a lobby arrival (admitted, or gone). sid "" matches any connection.
func (s *Service) unknock(room, identity, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.knocks[room][identity]; ok && (sid == "" || k.sid == sid) {
		delete(s.knocks[room], identity)
		if len(s.knocks[room]) == 0 {
			delete(s.knocks, room)
		}
	}
}

func (s *Service) knockedAt(room, identity string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knocks[room][identity].at
}

// hostNames are the session's hosts by name: its host list and the case's mediator
// (admins are reached through adminsOf).
func (s *Service) hostNames(se store.Session) []string {
	out := append([]string(nil), se.Hosts...)
	ctx, cancel := bg()
	defer cancel()
	if c, err := s.st.Case(ctx, se.CaseID); err == nil && c.Mediator != "" {
		out = append(out, c.Mediator)
	}
	return out
}

// sessionStaffNames are the usernames who follow a session live: hosts and invited staff.
func (s *Service) sessionStaffNames(se store.Session) []string {
	out := s.hostNames(se)
	ctx, cancel := bg()
	defer cancel()
	if ss, err := s.st.SessionStaff(ctx, se.ID); err == nil {
		for _, x := range ss {
			out = append(out, x.Username)
		}
	}
	return out
}
