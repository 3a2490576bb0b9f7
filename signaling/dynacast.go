package signaling

import (
	"time"

	"github.com/livekit/protocol/livekit"
)

// Dynacast: a publisher encodes and sends only the simulcast layers someone
// takes (SubscribedQualityUpdate). A phone on a weak uplink then stops
// spending its few hundred kbit/s on a 720p layer nobody shows. Every layer
// up to the highest one wanted stays on: the lower ones are what a
// subscriber's link falls back to.

// dynacastDown is how long a lower demand must last before the publisher is
// told to stop a layer: a tile resized or a subscriber's down track made
// again should not make a phone stop and restart an encoder.
const dynacastDown = time.Second

// dynacastTrack is the dynacast state of one video track. Owned by the room loop.
type dynacastTrack struct {
	told       int       // highest layer the publisher was last told to send; 2 = all (its default)
	lowerSince time.Time // since when the demand has been below told; zero if not
}

func (r *room) dynacast(now time.Time, views []linkView, st *linkState) {
	seen := map[string]bool{}
	for _, v := range views {
		for _, t := range v.tracks {
			if !t.video {
				continue
			}
			seen[t.sid] = true
			d := st.dyn[t.sid]
			if d == nil {
				d = &dynacastTrack{told: 2}
				st.dyn[t.sid] = d
			}
			want := t.up.DemandedLayer()
			switch {
			case want == d.told:
				d.lowerSince = time.Time{}
				continue
			case want < d.told:
				if d.lowerSince.IsZero() {
					d.lowerSince = now
				}
				if now.Sub(d.lowerSince) < dynacastDown {
					continue
				}
			}
			d.told, d.lowerSince = want, time.Time{}
			v.p.log.Info("dynacast", "track", t.sid, "layers_on", want+1)
			v.p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_SubscribedQualityUpdate{
				SubscribedQualityUpdate: subscribedQualities(t.sid, codecName(t.mime), want),
			}})
		}
	}
	for sid := range st.dyn {
		if !seen[sid] {
			delete(st.dyn, sid)
		}
	}
}

// subscribedQualities turns "layers 0..top on" into the message, in both
// its current (per codec) and its older form.
func subscribedQualities(trackSID, codec string, top int) *livekit.SubscribedQualityUpdate {
	qs := make([]*livekit.SubscribedQuality, 0, 3)
	for q := livekit.VideoQuality_LOW; q <= livekit.VideoQuality_HIGH; q++ {
		qs = append(qs, &livekit.SubscribedQuality{Quality: q, Enabled: int(q) <= top})
	}
	return &livekit.SubscribedQualityUpdate{
		TrackSid:            trackSID,
		SubscribedQualities: qs,
		SubscribedCodecs:    []*livekit.SubscribedCodec{{Codec: codec, Qualities: qs}},
	}
}
