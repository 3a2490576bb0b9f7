package recorder

import "time"

// Plan is what should be recorded in one live session right now. The caller (the
// mediation policy) decides it; the Recorder makes its writers match it.
type Plan struct {
	SessionID, CaseID  int64
	CaseNumber, Centre string
	Title, Kind        string
	CaucusPolicy, Room string
	Spaces             []SpacePlan // the lobby ("") first, then every space with someone in it
}

// SpacePlan says whether one space is recorded.
type SpacePlan struct {
	Space        string
	Record       bool   // write every track published in this space
	Sealed       bool   // a caucus under the "sealed" policy: restricted access
	Reason       string // why not recording (logged as the stop reason)
	Participants []Participant
}

// Participant is one person in a space, with what the case file needs to know.
type Participant struct {
	Identity, Name, Role, Side, Centre string
	Consent                            bool
	Tracks                             []Track
}

// Track is one published track of a participant.
type Track struct {
	SID      string
	Kind     string // audio, video
	MimeType string // "" while no media flows yet: a later plan has it
}

// Status of one session, for the live view and the room's banner.
type Status struct {
	Active    bool      // at least one track is being written
	Healthy   bool      // no writer failed since recording started
	Error     string    // the last failure, for the hosts (no server paths in it)
	StartedAt time.Time // when recording first started in this session
}

func (p Plan) hasSpace(space string) bool {
	for _, sp := range p.Spaces {
		if sp.Space == space {
			return true
		}
	}
	return false
}
