package mediation

import (
	"encoding/json"
	"strings"

	"yizhan/signaling"
	"yizhan/store"
)

// Notes petitioners wrote on arrival, kept for the live view (the timeline has them too).

func (s *Service) setNote(room, identity, note string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notes[room] == nil {
		s.notes[room] = map[string]string{}
	}
	s.notes[room][identity] = note
}

func (s *Service) noteOf(room, identity string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notes[room][identity]
}

// view is the live-view JSON of p in room.
func (s *Service) view(room string, p signaling.Participant) participantJSON {
	v := participantView(p, s.knockedAt(room, p.Identity), s.now())
	v.Note = s.noteOf(room, p.Identity)
	return v
}

// roomMetaJSON is the room metadata every client reads (the in-room banner): whether
// recording runs, what the session is, and a label per space in use.
type roomMetaJSON struct {
	Recording    bool                         `json:"recording"`
	Title        string                       `json:"title"`
	Kind         string                       `json:"kind"`
	CaucusPolicy string                       `json:"caucus_policy"`
	Spaces       map[string]map[string]string `json:"spaces"`
}

func spaceLabel(space string) string {
	if space == jointSpace {
		return "联合会谈"
	}
	name := strings.TrimPrefix(space, "caucus-")
	switch name {
	case "applicant":
		name = "申请人"
	case "respondent":
		name = "被申请人"
	}
	return "单独会谈（" + name + "）"
}

// metaSync is the room-metadata state of one room: at most one caller computes and sets
// it at a time; callers arriving meanwhile mark it dirty and the running one goes again,
// so the last metadata set is computed after the last change (no lock across the call).
type metaSync struct {
	running, dirty, force bool
	last                  string
}

// syncRoomMeta sets the room metadata of a live session when it changed (always when
// force: a room recreated after it emptied has lost it).
func (s *Service) syncRoomMeta(se store.Session, force bool) {
	if se.State == "ended" {
		return
	}
	s.mu.Lock()
	ms := s.roomMeta[se.Room]
	if ms == nil {
		ms = &metaSync{}
		s.roomMeta[se.Room] = ms
	}
	ms.dirty, ms.force = true, ms.force || force
	if ms.running {
		s.mu.Unlock()
		return
	}
	ms.running = true
	s.mu.Unlock()
	for {
		s.mu.Lock()
		if !ms.dirty {
			ms.running = false
			s.mu.Unlock()
			return
		}
		f, last := ms.force, ms.last
		ms.dirty, ms.force = false, false
		s.mu.Unlock()
		b := s.roomMetaOf(se)
		if b != last || f {
			if err := s.rc.SetRoomMetadata(se.Room, b); err != nil {
				s.log.Debug("set room metadata", "room", se.Room, "err", err)
			}
		}
		s.mu.Lock()
		ms.last = b
		s.mu.Unlock()
	}
}

func (s *Service) roomMetaOf(se store.Session) string {
	m := roomMetaJSON{Title: se.Title, Kind: se.Kind, CaucusPolicy: se.CaucusPolicy, Spaces: map[string]map[string]string{}}
	m.Spaces[jointSpace] = map[string]string{"label": spaceLabel(jointSpace)}
	for _, p := range s.rc.Participants(se.Room) {
		if p.Space != "" {
			m.Spaces[p.Space] = map[string]string{"label": spaceLabel(p.Space)}
		}
	}
	if s.cfg.Recorder != nil {
		m.Recording = s.cfg.Recorder.Status(se.ID).Active
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// forgetRoom drops what was kept in memory for a room that ended.
func (s *Service) forgetRoom(room string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.knocks, room)
	delete(s.notes, room)
	delete(s.roomMeta, room)
}
