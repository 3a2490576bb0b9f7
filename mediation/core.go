package mediation

import (
	"log/slog"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// core is what every part of the domain shares: the dependencies and the small helpers
// that resolve a caller, a case or a session and tell the consoles what changed. The
// parts (authAPI, casesAPI, sessionsAPI, joinAPI, liveAPI, caseFileAPI, liveRooms) each
// hold a *core plus what only they need.
type core struct {
	// static after construction
	cfg    Config
	st     store.Store
	rc     RoomControl
	log    *slog.Logger
	events *broker // the staff consoles' event streams; safe for concurrent use

	hits limitCounters // bounds hit (limits.go); atomic counters
}

func (s *core) now() time.Time { return s.cfg.Now().UTC() }

// participant is identity's snapshot in room, if it is there.
func (s *core) participant(room, identity string) (signaling.Participant, bool) {
	for _, p := range s.rc.Participants(room) {
		if p.Identity == identity {
			return p, true
		}
	}
	return signaling.Participant{}, false
}

// hostNames are the session's hosts by name: its host list and the case's mediator
// (admins are reached through adminsOf).
func (s *core) hostNames(se store.Session) []string {
	out := append([]string(nil), se.Hosts...)
	ctx, cancel := bg()
	defer cancel()
	if c, err := s.st.Case(ctx, se.CaseID); err == nil && c.Mediator != "" {
		out = append(out, c.Mediator)
	}
	return out
}

// sessionStaffNames are the usernames who follow a session live: hosts and invited staff.
func (s *core) sessionStaffNames(se store.Session) []string {
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
