package lktest

import (
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// SimulcastPublication is one simulcast video track: three layers (q, h, f), each its
// own synthetic stream that can be stopped on its own.
type SimulcastPublication struct {
	SID    string
	Layers [3]*Publication // low, medium, high
}

// Stop ends every layer.
func (s *SimulcastPublication) Stop() {
	for _, l := range s.Layers {
		l.Stop()
	}
}

// PublishSimulcastVP8 publishes a three-layer VP8 track (rids q, h, f) and starts
// every layer at its bitrate (kbps low to high).
func (c *Client) PublishSimulcastVP8(name string, kbps [3]int) (*SimulcastPublication, error) {
	qualities := []livekit.VideoQuality{livekit.VideoQuality_LOW, livekit.VideoQuality_MEDIUM, livekit.VideoQuality_HIGH}
	widths := []uint32{320, 640, 1280}
	simID := fmt.Sprintf("sim-%s-%d", c.Identity, time.Now().UnixNano())
	sp := &SimulcastPublication{}
	var tracks []*lksdk.LocalTrack
	for i := range 3 {
		p := &Publication{stop: make(chan struct{}), done: make(chan struct{})}
		track, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			lksdk.WithSimulcast(simID, &livekit.VideoLayer{Quality: qualities[i], Width: widths[i], Height: widths[i] * 9 / 16}),
			lksdk.WithRTCPHandler(func(pkt rtcp.Packet) {
				switch pkt.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.PLIs.Add(1)
					p.pli.Store(true)
				}
			}))
		if err != nil {
			return nil, err
		}
		p.Track = track
		sp.Layers[i] = p
		tracks = append(tracks, track)
	}
	pub, err := c.Room.LocalParticipant.PublishSimulcastTrack(tracks, &lksdk.TrackPublicationOptions{
		Name: name, Source: livekit.TrackSource_CAMERA, VideoWidth: 1280, VideoHeight: 720,
	})
	if err != nil {
		return nil, fmt.Errorf("publish simulcast: %w", err)
	}
	sp.SID = pub.SID()
	for i, p := range sp.Layers {
		p.SID, p.Pub = pub.SID(), pub
		go p.sendVideo(p.Track, VideoOptions{BitrateKbps: kbps[i], FPS: 30, KeyframeEvery: 2 * time.Second}) // ends on Stop
		c.addCloser(p.Stop)
	}
	return sp, nil
}
