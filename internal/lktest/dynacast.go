package lktest

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// PublishSimulcastSamples publishes a three-layer VP8 track like
// PublishSimulcastVP8, but through the SDK's sample writer (StartWrite), which
// honours dynacast: a layer the server says nobody needs
// (SubscribedQualityUpdate) stops being sent, as a browser's encoder would stop.
func (c *Client) PublishSimulcastSamples(name string, kbps [3]int) (*SimulcastPublication, error) {
	qualities := []livekit.VideoQuality{livekit.VideoQuality_LOW, livekit.VideoQuality_MEDIUM, livekit.VideoQuality_HIGH}
	widths := []uint32{320, 640, 1280}
	simID := fmt.Sprintf("simd-%s-%d", c.Identity, time.Now().UnixNano())
	sp := &SimulcastPublication{}
	var tracks []*lksdk.LocalTrack
	var providers []*frameProvider
	for i := range 3 {
		p := &Publication{stop: make(chan struct{}), done: make(chan struct{})}
		fp := &frameProvider{p: p, bytes: kbps[i] * 1000 / 8 / 30, fps: 30}
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
		providers = append(providers, fp)
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
		if err := p.Track.StartWrite(providers[i], func() { close(p.done) }); err != nil {
			return nil, fmt.Errorf("start layer %d: %w", i, err)
		}
		c.addCloser(p.Stop)
	}
	return sp, nil
}

// frameProvider makes synthetic VP8 frames (keyframe every 2 s or on a PLI);
// the SDK paces them by their duration and drops them while the layer is
// disabled.
type frameProvider struct {
	p       *Publication
	bytes   int
	fps     int
	lastKey time.Time
}

func (f *frameProvider) NextSample(ctx context.Context) (media.Sample, error) {
	select {
	case <-f.p.stop:
		return media.Sample{}, io.EOF
	case <-ctx.Done():
		return media.Sample{}, ctx.Err()
	default:
	}
	key := f.p.pli.Swap(false) || time.Since(f.lastKey) >= 2*time.Second
	var data []byte
	if key {
		f.lastKey = time.Now()
		// VP8 frame tag with the keyframe bit clear, then the start code (RFC 6386 §9.1).
		data = append(data, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01)
	} else {
		data = append(data, 0x11, 0x02, 0x00)
	}
	data = append(data, make([]byte, max(f.bytes-len(data), 0))...)
	f.p.Frames.Add(1)
	return media.Sample{Data: data, Duration: time.Second / time.Duration(f.fps)}, nil
}

func (f *frameProvider) OnBind() error   { return nil }
func (f *frameProvider) OnUnbind() error { return nil }
func (f *frameProvider) Close() error    { return nil }
