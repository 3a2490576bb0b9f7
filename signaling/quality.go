package signaling

import (
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// Connection quality (ConnectionQualityUpdate): excellent, good, poor or lost
// for every participant, from what the server sees of its links: loss on what
// it publishes, loss, jitter and round trip in the receiver reports of what it
// receives, and whether anything arrives from it at all.

// silentAfter is how long an unmuted published track may send nothing before
// its participant counts as lost (browsers send audio at least every 400 ms,
// even in DTX silence).
const silentAfter = 5 * time.Second

// Quality thresholds. A village 4G link at 5 % loss is still good to talk on
// (FEC, RED and NACK hide it); at 10 % speech breaks up.
const (
	excellentLoss   = 0.02
	goodLoss        = 0.08
	excellentRTT    = 300 * time.Millisecond
	goodRTT         = 700 * time.Millisecond
	excellentJitter = 30 * time.Millisecond
	goodJitter      = 100 * time.Millisecond
)

// qualityState is a participant's computed quality.
type qualityState struct {
	q     livekit.ConnectionQuality
	score float32
}

// LinkInfo is what the server knows of one participant's links, for the
// console's live view.
type LinkInfo struct {
	Quality      string  `json:"quality"` // excellent, good, poor, lost; "" before the first look
	Loss         float64 `json:"loss"`    // worst fraction lost, up or down
	RTTMs        int     `json:"rtt_ms"`
	JitterMs     int     `json:"jitter_ms"`
	EstimateKbps int     `json:"estimate_kbps"` // downlink estimate
	SentKbps     int     `json:"sent_kbps"`     // what we send it
	VideoPaused  int     `json:"video_paused"`  // video tracks paused for bandwidth
	Layers       []int   `json:"layers"`        // per received video track: layer cap, -1 paused
}

func qualityName(q livekit.ConnectionQuality) string {
	switch q {
	case livekit.ConnectionQuality_EXCELLENT:
		return "excellent"
	case livekit.ConnectionQuality_GOOD:
		return "good"
	case livekit.ConnectionQuality_LOST:
		return "lost"
	}
	return "poor"
}

// assess computes one participant's quality and link figures.
func assess(now time.Time, v linkView, st *linkState) (qualityState, LinkInfo) {
	rep := st.links[v.sid]
	info := LinkInfo{EstimateKbps: int(rep.Estimate / 1000), SentKbps: int(rep.SentBps / 1000), Layers: rep.Layers}
	if info.Layers == nil {
		info.Layers = []int{}
	}
	for _, l := range rep.Layers {
		if l < 0 {
			info.VideoPaused++
		}
	}
	var loss float64
	var jitter, rtt time.Duration
	if !rep.LastReport.IsZero() && now.Sub(rep.LastReport) < silentAfter {
		loss, jitter, rtt = rep.Loss, rep.Jitter, rep.RTT
	}
	lost := false
	var newest time.Time
	unmuted := 0
	for _, t := range v.tracks {
		s := t.up.Stats()
		loss = max(loss, s.Loss)
		if t.muted {
			continue
		}
		unmuted++
		if s.LastRecv.After(newest) {
			newest = s.LastRecv
		}
	}
	if unmuted > 0 && !newest.IsZero() && now.Sub(newest) > silentAfter {
		lost = true // publishes, unmuted, and nothing arrives
	}
	for _, pc := range []*webrtc.PeerConnection{v.p.pub, v.p.sub} {
		if pc == nil {
			continue
		}
		if s := pc.ICEConnectionState(); s == webrtc.ICEConnectionStateDisconnected || s == webrtc.ICEConnectionStateFailed {
			lost = true // no consent check answered for seconds (RFC 7675)
		}
	}
	info.Loss, info.RTTMs, info.JitterMs = loss, int(rtt/time.Millisecond), int(jitter/time.Millisecond)

	var q qualityState
	switch {
	case lost:
		q = qualityState{livekit.ConnectionQuality_LOST, 1}
	case loss <= excellentLoss && rtt <= excellentRTT && jitter <= excellentJitter && info.VideoPaused == 0:
		q = qualityState{livekit.ConnectionQuality_EXCELLENT, 5 - float32(loss)*20}
	case loss <= goodLoss && rtt <= goodRTT && jitter <= goodJitter && info.VideoPaused == 0:
		q = qualityState{livekit.ConnectionQuality_GOOD, 4 - float32(loss)*10}
	default:
		q = qualityState{livekit.ConnectionQuality_POOR, float32(max(1.5, 3-loss*10))}
	}
	info.Quality = qualityName(q.q)
	return q, info
}

// updateQuality computes everyone's quality, tells each participant the
// changes about those it sees (itself included), and reports changes as events.
func (r *room) updateQuality(now time.Time, views []linkView, st *linkState) {
	infos := map[string]LinkInfo{}
	var changed []linkView
	before := map[string]string{} // participant SID -> quality before the change
	for _, v := range views {
		q, info := assess(now, v, st)
		infos[v.sid] = info
		if old, ok := st.quality[v.sid]; !ok || old.q != q.q {
			changed = append(changed, v)
			if ok {
				before[v.sid] = qualityName(old.q)
			}
		}
		st.quality[v.sid] = q
	}
	live := map[string]bool{}
	for _, v := range views {
		live[v.sid] = true
	}
	for sid := range st.quality {
		if !live[sid] {
			delete(st.quality, sid)
			delete(st.told, sid)
		}
	}

	r.mu.Lock()
	var events []Event
	for _, v := range views {
		if r.participants[v.p.identity] != v.p {
			continue
		}
		v.p.link = infos[v.sid]
	}
	for _, c := range changed {
		if r.participants[c.p.identity] == c.p {
			ev := Event{Kind: EventQuality, Room: r.name, Identity: c.p.identity, SID: c.sid, Quality: infos[c.sid].Quality,
				Reason: before[c.sid], Participant: c.p.snapshotLocked()}
			events = append(events, ev)
		}
	}
	r.tellQualityLocked(views, st) // quality_tell.go
	r.mu.Unlock()
	for _, ev := range events {
		r.srv.emit(ev)
	}
}
