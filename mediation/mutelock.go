package mediation

import (
	"errors"
	"strings"

	"yizhan/signaling"
)

// A host's mute with "lock": true sticks until a host unmutes (issue 12, row 9).
// Signaling enforces it (LockSources): the party's own unmute is refused and a track it
// publishes again starts muted. The party is told twice: its client sees the server
// mute and a refusal when it tries, and its "mute_locked" attribute names the locked
// sources, for the web app to show why the microphone button does nothing.

const muteLockedAttr = "mute_locked"

// lockSources is what a lock covers: the source of trackSID, or every audio source.
func lockSources(p signaling.Participant, trackSID string) []string {
	if trackSID == "" {
		return []string{"microphone", "screen_share_audio"}
	}
	for _, t := range p.Tracks {
		if t.SID == trackSID && t.Source != "unknown" {
			return []string{t.Source}
		}
	}
	return nil
}

// lockMute locks or unlocks sources for p and says so in p's attributes.
func (s *core) lockMute(room string, p signaling.Participant, sources []string, locked bool) error {
	if len(sources) == 0 {
		return nil
	}
	if err := s.rc.LockSources(room, p.Identity, sources, locked); err != nil && !errors.Is(err, signaling.ErrNotFound) {
		return err
	}
	now := map[string]bool{}
	for _, src := range strings.Split(p.Attributes[muteLockedAttr], ",") {
		if src != "" {
			now[src] = true
		}
	}
	for _, src := range sources {
		if locked {
			now[src] = true
		} else {
			delete(now, src)
		}
	}
	var list []string
	for _, src := range []string{"microphone", "screen_share_audio", "camera", "screen_share"} {
		if now[src] {
			list = append(list, src)
		}
	}
	err := s.rc.SetAttributes(room, p.Identity, map[string]string{muteLockedAttr: strings.Join(list, ",")})
	if errors.Is(err, signaling.ErrNotFound) {
		return nil
	}
	return err
}

// lockedAttr is the mute_locked attribute of p: its locked sources, comma-separated.
func lockedAttr(p signaling.Participant) string { return strings.Join(p.MuteLocked, ",") }

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
