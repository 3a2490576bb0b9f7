package signaling

import (
	"strings"

	"github.com/livekit/protocol/livekit"

	"yizhan/media"
)

// Adaptive stream: livekit-client tells us, per subscribed track, how big its
// tile is and whether it is shown at all (UpdateTrackSettings). A small tile
// gets the small simulcast layer; a hidden or disabled one gets nothing. The
// wish is kept per subscriber and track SID, so that it survives a down track
// being made again (resubscription, a publisher's new session).

// downSettings is what a subscriber asked for one track.
type downSettings struct {
	layer  int  // highest simulcast layer wanted: 0 = q, 1 = h, 2 = f
	paused bool // the tile is hidden or the track disabled
}

// handleTrackSettings records and applies a subscriber's wishes.
func (p *participant) handleTrackSettings(u *livekit.UpdateTrackSettings) {
	r := p.room
	wishes := make(map[string]downSettings, len(u.TrackSids))
	r.mu.Lock()
	for _, sid := range u.TrackSids {
		info := r.trackInfoLocked(sid)
		if info == nil {
			continue // not (or no longer) published: nothing to apply it to
		}
		wishes[sid] = settingsFor(info, u)
	}
	r.mu.Unlock()
	p.subs.setSettings(wishes)
}

// trackInfoLocked finds a published track by SID in the room.
func (r *room) trackInfoLocked(sid string) *livekit.TrackInfo {
	for _, q := range r.participants {
		if t := q.tracks[sid]; t != nil {
			return t.info
		}
	}
	return nil
}

// settingsFor turns track settings into a layer, the way livekit-server does:
// the lowest layer at least as big as the tile (on its short side), the best
// one when none is; without dimensions, the quality asked for.
func settingsFor(info *livekit.TrackInfo, u *livekit.UpdateTrackSettings) downSettings {
	s := downSettings{layer: 2, paused: u.Disabled}
	if info.Type != livekit.TrackType_VIDEO {
		return s
	}
	if u.Width == 0 && u.Height == 0 {
		switch u.Quality {
		case livekit.VideoQuality_LOW:
			s.layer = 0
		case livekit.VideoQuality_MEDIUM:
			s.layer = 1
		case livekit.VideoQuality_OFF:
			s.paused = true
		}
		return s
	}
	s.layer = layerForSize(info, u.Width, u.Height)
	return s
}

// layerForSize picks the layer for a tile of w x h.
func layerForSize(info *livekit.TrackInfo, w, h uint32) int {
	portrait := info.Width > 0 && info.Width < info.Height
	want := h
	if portrait {
		want = w
	}
	// The publisher's layers, low to high; livekit-client's defaults when it
	// did not say (180p, 360p, full).
	sizes := []uint32{180, 360, max(info.Height, 720)}
	if portrait {
		sizes[2] = max(info.Width, 720)
	}
	if len(info.Layers) > 0 {
		sizes = sizes[:0]
		for _, l := range info.Layers {
			if l.Quality > livekit.VideoQuality_HIGH {
				continue
			}
			side := l.Height
			if portrait {
				side = l.Width
			}
			idx := int(l.Quality)
			for len(sizes) <= idx {
				sizes = append(sizes, 0)
			}
			sizes[idx] = side
		}
	}
	for i, side := range sizes {
		if i == len(sizes)-1 || (side >= want && side > 0) {
			return i
		}
	}
	return len(sizes) - 1
}

// setSettings stores wishes and applies them to the down tracks that exist.
func (s *subscriber) setSettings(wishes map[string]downSettings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sid, w := range wishes {
		s.settings[sid] = w
		if e := s.down[sid]; e != nil {
			applySettings(e.dt, w)
		}
	}
}

// applySettings hands a wish to the media layer (no I/O; safe under s.mu).
func applySettings(dt *media.DownTrack, w downSettings) {
	dt.SetMaxLayer(w.layer)
	dt.SetPaused(w.paused)
}

// handleUpdateLayers records the layers a publisher says it sends (sizes can
// change mid-call, e.g. when a phone turns).
func (p *participant) handleUpdateLayers(u *livekit.UpdateVideoLayers) {
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := p.tracks[u.TrackSid]; t != nil && len(u.Layers) > 0 && len(u.Layers) <= 4 {
		t.info.Layers = u.Layers
	}
}

// primaryCodec names the codec a publisher announced (AddTrackRequest's first
// simulcast codec) in the TrackInfo, as livekit-server does: the Go SDK finds
// a publication's codec there before the media arrives, and applies dynacast
// only to a codec it can name. Backup codecs are not offered, so not listed.
func primaryCodec(req *livekit.AddTrackRequest) []*livekit.SimulcastCodecInfo {
	if len(req.SimulcastCodecs) == 0 || req.SimulcastCodecs[0].Codec == "" {
		return nil
	}
	c := req.SimulcastCodecs[0]
	mime := c.Codec
	if !strings.Contains(mime, "/") {
		kind := "video/"
		if req.Type == livekit.TrackType_AUDIO {
			kind = "audio/"
		}
		mime = kind + mime
	}
	return []*livekit.SimulcastCodecInfo{{MimeType: mime, Cid: c.Cid, Layers: c.Layers}}
}
