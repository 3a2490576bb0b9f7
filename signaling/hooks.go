package signaling

import "time"

// Hooks is how the layer above (mediation) decides and listens. Signaling owns the live state
// of rooms; it does not know what a case, a mediator or a lobby policy is.
type Hooks interface {
	// Joining is called before the websocket upgrade. It returns the space the participant
	// lands in: "" is the lobby (isolated: sends to nobody, receives nothing, sees only
	// itself); participants in the same non-empty space exchange media and data. An error
	// refuses the join with HTTP 403.
	Joining(room string, p Participant) (space string, err error)
	// Event reports what happened, after the fact and with no lock held: the hook may call
	// back into the Server's control API.
	Event(ev Event)
}

// Event kinds.
const (
	EventJoined           = "joined"
	EventLeft             = "left"
	EventTrackPublished   = "track_published"
	EventTrackUnpublished = "track_unpublished"
	EventMuted            = "muted"
	EventUnmuted          = "unmuted"
	EventActive           = "active"  // the participant's media connection is up
	EventQuality          = "quality" // connection quality changed: Event.Quality now, Event.Reason before ("" at first)
)

// Event is one thing that happened in a room.
type Event struct {
	Kind        string
	Room        string
	Identity    string
	SID         string
	TrackSID    string
	Reason      string
	Quality     string // EventQuality: excellent, good, poor or lost
	Count       int    // EventAudience: hidden participants in the room now
	Time        time.Time
	Participant Participant // snapshot at the time of the event
}

// Participant is a snapshot of one participant, safe to keep.
type Participant struct {
	SID        string
	Identity   string
	Name       string
	Space      string
	Attributes map[string]string
	Metadata   string
	Tracks     []Track
	JoinedAt   time.Time
	State      string // joining, joined, active, disconnected
	Permission Permission
	Hidden     bool
	Link       LinkInfo // connection quality and link figures (quality.go)
	MuteLocked []string // sources a host locked muted (LockSources), by name
}

// Track is a snapshot of one published track.
type Track struct {
	SID      string
	Name     string
	Kind     string // audio, video
	Source   string // camera, microphone, screen_share, ...
	Muted    bool
	MimeType string
}

// Permission is what a participant may do in its room.
type Permission struct {
	CanPublish     bool
	CanSubscribe   bool
	CanPublishData bool
}

// noHooks puts everyone in one space: a plain LiveKit room.
type noHooks struct{}

func (noHooks) Joining(string, Participant) (string, error) { return DefaultSpace, nil }
func (noHooks) Event(Event)                                 {}

// The attributes signaling writes itself, whatever the token carried: where the
// participant is (see Participant.Space).
const (
	AttrSpace = "space" // the participant's space; absent in the lobby
	AttrLobby = "lobby" // "1" while the participant waits in the lobby; absent otherwise
)

// DefaultSpace is where participants land when no hooks are set.
const DefaultSpace = "main"
