package mediation

import (
	"maps"

	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
	"yizhan/store"
)

// The mediation side of the recorder (package recording/recorder): what it is handed
// (caseFileEvent, planTracks), what it tells the hosts (RecordingFailed,
// RecordingChanged, wired by cmd/yizhan), and the room control it drives (RecorderRooms).

// caseFileEvent is a timeline event in the case file's words (package recording,
// DOMAIN.md): what happened, in the past tense.
func caseFileEvent(ev store.Event) recording.Event {
	kind := ev.Kind
	if k, ok := caseFileKinds[kind]; ok {
		kind = k
	}
	detail := maps.Clone(ev.Fields)
	if ev.Detail != "" {
		if detail == nil {
			detail = map[string]string{}
		}
		detail["detail"] = ev.Detail
	}
	return recording.Event{Time: ev.Time, Kind: kind, Actor: ev.Actor, Subject: ev.Subject, Detail: detail}
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
