package signaling

import (
	"strings"

	"github.com/pion/sdp/v3"
)

// redDisabledMids names the audio sections of a publisher's offer whose
// track asked for plain Opus (AddTrackRequest.disable_red: livekit-client
// sets it with end-to-end encryption, where a server cannot take RED apart,
// and when the app turns RED off). A section is matched to its track by the
// track id of its msid, which is the track's cid, as onTrack does.
func (p *participant) redDisabledMids(offer string) map[string]bool {
	r := p.room
	off := map[string]bool{} // cids
	r.mu.Lock()
	for cid, info := range p.pending {
		if info.DisableRed {
			off[cid] = true
		}
	}
	for _, t := range p.tracks {
		if t.info.DisableRed {
			off[t.cid] = true
		}
	}
	r.mu.Unlock()
	if len(off) == 0 {
		return nil
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil // the answer fails on it anyway, with the error
	}
	mids := map[string]bool{}
	for _, m := range sd.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		msid, _ := m.Attribute("msid")
		if f := strings.Fields(msid); len(f) == 2 && off[f[1]] {
			mids[mid] = true
		}
	}
	return mids
}
