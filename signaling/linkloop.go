package signaling

import (
	"strings"
	"time"

	"github.com/livekit/protocol/livekit"

	"yizhan/media"
)

// linkEvery is how often a room looks at its links: bandwidth estimates and
// layer caps (media.Downlink), dynacast, connection quality. Receiver reports
// come about once a second; twice that rate catches each one soon after.
const linkEvery = 500 * time.Millisecond

// linkState is what the room loop remembers between link ticks. Owned by the loop.
type linkState struct {
	dyn     map[string]*dynacastTrack   // by track SID
	quality map[string]qualityState     // by participant SID: last computed
	told    map[string]map[string]int32 // viewer SID -> participant SID -> quality last sent (quality_tell.go)
	public  map[string]int32            // visible participant SID -> quality last sent to everyone (quality_tell.go)
	links   map[string]media.LinkReport // by participant SID: the last tick's report
}

func newLinkState() *linkState {
	return &linkState{
		dyn:     map[string]*dynacastTrack{},
		quality: map[string]qualityState{},
		told:    map[string]map[string]int32{},
		links:   map[string]media.LinkReport{},
	}
}

// linkView is a copy of what the link tick needs, taken under room.mu.
type linkView struct {
	p      *participant
	sid    string
	space  string
	hidden bool
	tracks []linkTrackView
}

type linkTrackView struct {
	sid, mime string
	video     bool
	muted     bool
	up        *media.UpTrack
}

// tickLinks runs the subscribers' allocators, tells them which streams were
// paused or resumed, tells publishers which layers are wanted, and updates
// connection quality.
func (r *room) tickLinks(now time.Time, st *linkState) {
	r.mu.Lock()
	views := make([]linkView, 0, len(r.participants))
	owner := map[string]string{} // track SID -> publisher SID
	for _, p := range r.participants {
		v := linkView{p: p, sid: p.sid, space: p.space, hidden: p.hidden}
		for sid, t := range p.tracks {
			v.tracks = append(v.tracks, linkTrackView{
				sid: sid, mime: t.info.MimeType, video: t.info.Type == livekit.TrackType_VIDEO,
				muted: t.info.Muted, up: t.up,
			})
			owner[sid] = p.sid
		}
		views = append(views, v)
	}
	r.mu.Unlock()

	live := map[string]bool{}
	for _, v := range views {
		live[v.sid] = true
		rep := v.p.subs.link.Tick(now)
		st.links[v.sid] = rep
		if len(rep.Changes) > 0 {
			states := make([]*livekit.StreamStateInfo, 0, len(rep.Changes))
			for _, c := range rep.Changes {
				state := livekit.StreamState_ACTIVE
				if c.Paused {
					state = livekit.StreamState_PAUSED
				}
				states = append(states, &livekit.StreamStateInfo{ParticipantSid: owner[c.TrackID], TrackSid: c.TrackID, State: state})
				v.p.log.Info("stream state", "track", c.TrackID, "paused_for_bandwidth", c.Paused, "estimate_kbps", int(rep.Estimate/1000))
			}
			v.p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_StreamStateUpdate{StreamStateUpdate: &livekit.StreamStateUpdate{StreamStates: states}}})
		}
	}
	for sid := range st.links {
		if !live[sid] {
			delete(st.links, sid)
		}
	}
	r.dynacast(now, views, st)
	r.updateQuality(now, views, st)
}

// codecName is how SubscribedCodec names a codec: "vp8" for video/VP8.
func codecName(mime string) string {
	_, c, _ := strings.Cut(mime, "/")
	return strings.ToLower(c)
}
