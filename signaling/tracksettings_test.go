package signaling

import (
	"testing"

	"github.com/livekit/protocol/livekit"
)

// TestLayerForSize: the lowest layer at least as big as the tile, on the short side.
func TestLayerForSize(t *testing.T) {
	land := &livekit.TrackInfo{Type: livekit.TrackType_VIDEO, Width: 1280, Height: 720, Layers: []*livekit.VideoLayer{
		{Quality: livekit.VideoQuality_LOW, Width: 320, Height: 180},
		{Quality: livekit.VideoQuality_MEDIUM, Width: 640, Height: 360},
		{Quality: livekit.VideoQuality_HIGH, Width: 1280, Height: 720},
	}}
	port := &livekit.TrackInfo{Type: livekit.TrackType_VIDEO, Width: 360, Height: 640, Layers: []*livekit.VideoLayer{
		{Quality: livekit.VideoQuality_LOW, Width: 180, Height: 320},
		{Quality: livekit.VideoQuality_HIGH, Width: 360, Height: 640},
	}}
	bare := &livekit.TrackInfo{Type: livekit.TrackType_VIDEO, Width: 1280, Height: 720}
	for _, c := range []struct {
		info *livekit.TrackInfo
		w, h uint32
		want int
	}{
		{land, 160, 90, 0}, {land, 320, 180, 0}, {land, 400, 225, 1}, {land, 1280, 720, 2}, {land, 1920, 1080, 2},
		{port, 90, 160, 0}, {port, 200, 356, 2},
		{bare, 160, 90, 0}, {bare, 640, 360, 1}, {bare, 1000, 562, 2},
	} {
		if got := layerForSize(c.info, c.w, c.h); got != c.want {
			t.Errorf("%dx%d of %dx%d: layer %d, want %d", c.w, c.h, c.info.Width, c.info.Height, got, c.want)
		}
	}
	// Without dimensions: the quality asked for; disabled or OFF: paused.
	if s := settingsFor(land, &livekit.UpdateTrackSettings{Quality: livekit.VideoQuality_MEDIUM}); s.layer != 1 || s.paused {
		t.Errorf("quality MEDIUM: %+v", s)
	}
	if s := settingsFor(land, &livekit.UpdateTrackSettings{Quality: livekit.VideoQuality_OFF}); !s.paused {
		t.Errorf("quality OFF: %+v", s)
	}
	if s := settingsFor(land, &livekit.UpdateTrackSettings{Disabled: true, Width: 1280, Height: 720}); !s.paused {
		t.Errorf("disabled: %+v", s)
	}
}
