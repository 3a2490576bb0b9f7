package signaling

import "github.com/livekit/protocol/livekit"

// Telling connection quality to a large audience (lectures, issue 15). Everyone in a
// space sees the same visible participants (sees), so what changed about them is one
// ConnectionQualityUpdate, marshalled once and sent to every participant already up to
// date. Only a newcomer (or one just out of the lobby) gets a message built for it (the
// whole state once), and a hidden viewer its own quality when that changes. Building
// one message per participant by looking at every other participant cost O(N²) per
// link tick and N marshals per change of the speaker's quality.

// publicToldKey marks, in linkState.told[w], that w has been told the public state.
const publicToldKey = "*"

// tellQualityLocked sends the quality updates of this tick; called with r.mu held.
func (r *room) tellQualityLocked(views []linkView, st *linkState) {
	if st.public == nil {
		st.public = map[string]int32{}
	}
	info := func(v linkView, forSelf bool) *livekit.ConnectionQualityInfo {
		q := st.quality[v.sid]
		if forSelf && q.q == livekit.ConnectionQuality_LOST {
			q.q = livekit.ConnectionQuality_POOR // livekit-client reconnects when told its own link is lost
		}
		return &livekit.ConnectionQualityInfo{ParticipantSid: v.sid, Quality: q.q, Score: q.score}
	}
	var visible []linkView
	var changes []*livekit.ConnectionQualityInfo
	isVisible := map[string]bool{}
	viewOf := make(map[*participant]linkView, len(views))
	for _, v := range views {
		viewOf[v.p] = v
		if v.p.hidden {
			continue
		}
		visible = append(visible, v)
		isVisible[v.sid] = true
		q := st.quality[v.sid]
		if last, ok := st.public[v.sid]; ok && last == int32(q.q) {
			continue
		}
		st.public[v.sid] = int32(q.q)
		changes = append(changes, info(v, false))
	}
	for sid := range st.public {
		if !isVisible[sid] {
			delete(st.public, sid) // hidden again or gone: told afresh if it comes back
		}
	}
	var bulk []*participant
	for _, w := range r.participants {
		v, ok := viewOf[w]
		if !ok {
			continue // joined after the views were taken: next tick
		}
		told := st.told[w.sid]
		if told == nil {
			told = map[string]int32{}
			st.told[w.sid] = told
		}
		own := info(v, true)
		last, toldOwn := told[w.sid]
		ownChanged := !toldOwn || last != int32(own.Quality)
		told[w.sid] = int32(own.Quality)
		switch {
		case w.space == "": // the lobby sees only itself
			delete(told, publicToldKey)
			if ownChanged {
				r.tellLocked(w, []*livekit.ConnectionQualityInfo{own})
			}
		case told[publicToldKey] == 0: // a newcomer: the whole state, once
			told[publicToldKey] = 1
			ups := []*livekit.ConnectionQualityInfo{}
			for _, o := range visible {
				if o.p != w {
					ups = append(ups, info(o, false))
				}
			}
			r.tellLocked(w, append(ups, own))
		case !isVisible[w.sid]: // hidden: the shared changes, and its own apart
			if len(changes) > 0 {
				bulk = append(bulk, w)
			}
			if ownChanged {
				r.tellLocked(w, []*livekit.ConnectionQualityInfo{own})
			}
		case ownChanged && st.quality[w.sid].q == livekit.ConnectionQuality_LOST:
			// visible and lost: the shared changes say LOST about it, which it must not hear
			ups := []*livekit.ConnectionQualityInfo{}
			for _, c := range changes {
				if c.ParticipantSid == w.sid {
					c = own
				}
				ups = append(ups, c)
			}
			r.tellLocked(w, ups)
		case len(changes) > 0:
			bulk = append(bulk, w)
		}
	}
	if len(changes) > 0 {
		r.sendEachLocked(bulk, qualityMsg(changes))
	}
}

func qualityMsg(ups []*livekit.ConnectionQualityInfo) *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_ConnectionQuality{ConnectionQuality: &livekit.ConnectionQualityUpdate{Updates: ups}}}
}

func (r *room) tellLocked(w *participant, ups []*livekit.ConnectionQualityInfo) {
	if len(ups) > 0 {
		w.send(qualityMsg(ups))
	}
}
