package signaling

import (
	"time"

	"github.com/livekit/protocol/livekit"
)

// speakerEvery is how often a room looks at who speaks. The clients highlight the
// active speaker from speakers_changed; a few hundred milliseconds feels immediate.
const speakerEvery = 300 * time.Millisecond

// loop does a room's periodic work: telling each space who in it started or stopped
// speaking, refreshing tokens, and looking after links (linkloop.go). It ends when the room closes.
func (r *room) loop() {
	defer r.srv.wg.Done()
	tick := time.NewTicker(speakerEvery)
	defer tick.Stop()
	refresh := time.NewTicker(r.srv.cfg.TokenRefresh / 5)
	defer refresh.Stop()
	speaking := map[string]bool{} // participant SID -> speaking at the last look; owned here
	links := time.NewTicker(linkEvery)
	defer links.Stop()
	linkSt := newLinkState() // owned here
	audience := time.NewTicker(audienceEvery)
	defer audience.Stop()
	viewers := 0 // the audience count last reported; owned here
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.updateSpeakers(speaking)
		case now := <-refresh.C:
			r.refreshTokens(now)
		case now := <-links.C:
			r.tickLinks(now, linkSt)
		case <-audience.C:
			r.reportAudience(&viewers)
		}
	}
}

type speakerSample struct {
	p     *participant
	space string
	level float64
	on    bool
}

func (r *room) updateSpeakers(speaking map[string]bool) {
	r.mu.Lock()
	var samples []speakerSample
	for _, p := range r.participants {
		if p.space == "" {
			continue // the lobby is heard by nobody
		}
		s := speakerSample{p: p, space: p.space}
		for _, t := range p.tracks {
			if t.info.Type != livekit.TrackType_AUDIO || t.info.Muted {
				continue
			}
			if lvl, on := t.up.AudioLevel(); on && lvl > s.level {
				s.level, s.on = lvl, true
			}
		}
		samples = append(samples, s)
	}
	r.mu.Unlock()

	changed := map[string][]*livekit.SpeakerInfo{} // by space
	seen := map[string]bool{}
	for _, s := range samples {
		seen[s.p.sid] = true
		if s.on == speaking[s.p.sid] {
			continue
		}
		speaking[s.p.sid] = s.on
		changed[s.space] = append(changed[s.space], &livekit.SpeakerInfo{Sid: s.p.sid, Level: float32(s.level), Active: s.on})
	}
	for sid := range speaking {
		if !seen[sid] {
			delete(speaking, sid) // left, or went to the lobby
		}
	}
	if len(changed) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	to := map[string][]*participant{} // by space
	for _, p := range r.participants {
		if len(changed[p.space]) > 0 && p.space != "" {
			to[p.space] = append(to[p.space], p)
		}
	}
	for space, ps := range to {
		r.sendEachLocked(ps, &livekit.SignalResponse{Message: &livekit.SignalResponse_SpeakersChanged{SpeakersChanged: &livekit.SpeakersChanged{Speakers: changed[space]}}})
	}
}
