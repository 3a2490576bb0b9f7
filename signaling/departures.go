package signaling

import (
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
)

// A client whose signal connection dropped comes back with a resume (handleResume). If
// its session ended meanwhile (a host removed it, the room was closed, its resume window
// ran out at that very moment), it must be told how, at once: a resume connection closed
// without a Leave leaves the client waiting about 10 s before it tries a full rejoin, and
// a removed party told to rejoin would walk back in.
//
// departures remembers, for resumeWindow, why each session ended, by participant SID.
type departures struct {
	mu        sync.Mutex // guards m and lastPrune
	m         map[string]departure
	lastPrune time.Time
}

type departure struct {
	reason livekit.DisconnectReason
	at     time.Time
}

// maxDepartures bounds the table: a burst of leaves beyond it (a server closing many
// rooms) is not remembered, and those clients get the default answer (rejoin).
const maxDepartures = 1 << 16

// note records that the session sid ended for reason.
func (d *departures) note(sid string, reason livekit.DisconnectReason) {
	if sid == "" {
		return
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]departure{}
	}
	if now.Sub(d.lastPrune) > resumeWindow {
		for k, v := range d.m {
			if now.Sub(v.at) > resumeWindow {
				delete(d.m, k)
			}
		}
		d.lastPrune = now
	}
	if len(d.m) < maxDepartures {
		d.m[sid] = departure{reason: reason, at: now}
	}
}

// reason says why the session sid ended, if it ended within resumeWindow.
func (d *departures) reason(sid string) (livekit.DisconnectReason, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m[sid]
	if !ok || time.Since(v.at) > resumeWindow {
		return 0, false
	}
	return v.reason, true
}

// lateLeave is the Leave a resuming client gets when its session has ended. Ends that
// are about the connection (the resume window ran out, the media connection failed)
// ask it to rejoin; ends that are decisions (removed, replaced by the same identity
// elsewhere, room closed, server going down, join refused) tell it to stay out.
func lateLeave(reason livekit.DisconnectReason) *livekit.SignalResponse {
	switch reason {
	case livekit.DisconnectReason_PARTICIPANT_REMOVED,
		livekit.DisconnectReason_DUPLICATE_IDENTITY,
		livekit.DisconnectReason_ROOM_DELETED,
		livekit.DisconnectReason_SERVER_SHUTDOWN,
		livekit.DisconnectReason_JOIN_FAILURE:
		return leaveMsg(reason)
	}
	return rejoinLeave()
}

// rejoinLeave asks a client whose session cannot be resumed to join again.
func rejoinLeave() *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: &livekit.LeaveRequest{
		CanReconnect: true,
		Reason:       livekit.DisconnectReason_STATE_MISMATCH,
		Action:       livekit.LeaveRequest_RECONNECT,
	}}}
}
