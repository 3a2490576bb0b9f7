package mediation

import (
	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
	"yizhan/store"
)

// The mediation side of the recorder (package recording/recorder): what it is handed
// (caseFileEvent, planTracks), what it tells the hosts (RecordingFailed,
// RecordingChanged, wired by cmd/yizhan), and the room control it drives (RecorderRooms).

// RecordingFailed tells the hosts at once that recording failed in a session (a
// writer, the case file's event log, the seal); the timeline keeps it. Wire it to the
// recorder's OnError.
func (s *Service) RecordingFailed(sessionID int64, err error) {
	ctx, cancel := bg()
	defer cancel()
	se, e := s.st.Session(ctx, sessionID)
	if e != nil {
		return
	}
	c, e := s.st.Case(ctx, se.CaseID)
	if e != nil {
		return
	}
	s.caseEvent(ctx, store.Event{CaseID: c.ID, Kind: "recording_failed", Actor: "system", SessionID: se.ID, Detail: err.Error()})
	s.emit(event{name: "recording", to: s.sessionStaffNames(se), adminsOf: c.Centre,
		data: map[string]any{"session_id": se.ID, "healthy": false, "error": err.Error()}})
}

// RecordingChanged: recording started or stopped; the room's banner and the hosts
// follow. Wire it to the recorder's OnState.
func (s *Service) RecordingChanged(sessionID int64) {
	ctx, cancel := bg()
	defer cancel()
	se, err := s.st.Session(ctx, sessionID)
	if err != nil {
		return
	}
	s.syncRoomMeta(se, false)
	st := s.recordingView(sessionID)
	s.emit(event{name: "recording", to: s.sessionStaffNames(se), adminsOf: s.centreOfCase(ctx, se.CaseID),
		data: map[string]any{"session_id": se.ID, "active": st.Active, "healthy": st.Healthy, "error": st.Error}})
}

// caseFileEvent is a timeline event in the case file's words (package recording,
// DOMAIN.md): what happened, in the past tense.
func caseFileEvent(ev store.Event) recording.Event {
	kind := ev.Kind
	if k, ok := caseFileKinds[kind]; ok {
		kind = k
	}
	return recording.Event{Time: ev.Time, Kind: kind, Actor: ev.Actor, Subject: ev.Subject,
		Detail: map[string]string{"detail": ev.Detail}}
}

var caseFileKinds = map[string]string{
	"join":   recording.KindJoined,
	"leave":  recording.KindLeft,
	"admit":  recording.KindAdmitted,
	"move":   recording.KindMoved,
	"mute":   recording.KindMuted,
	"lobby":  "sent_to_lobby",
	"deny":   "denied",
	"remove": "removed",
	"end":    "end_requested",
}

// planTracks is what the recorder needs of a participant's tracks.
func planTracks(ts []signaling.Track) []recorder.Track {
	out := make([]recorder.Track, len(ts))
	for i, t := range ts {
		out[i] = recorder.Track{SID: t.SID, Kind: t.Kind, MimeType: t.MimeType}
	}
	return out
}

// SinkRooms is the part of the room control (*signaling.Server) a recorder drives.
type SinkRooms interface {
	AttachSink(room, identity, trackSID string, sink signaling.Sink) (detach func(), err error)
	RequestKeyframe(room, identity, trackSID string) error
}

// RecorderRooms adapts the room control to the recorder's SinkAttacher: the two Sink
// types have the same shape, but Go matches method signatures by type name.
func RecorderRooms(rooms SinkRooms) recorder.SinkAttacher { return recorderRooms{rooms} }

type recorderRooms struct{ SinkRooms }

func (r recorderRooms) AttachSink(room, identity, trackSID string, sink recorder.Sink) (func(), error) {
	return r.SinkRooms.AttachSink(room, identity, trackSID, sink)
}
