package lktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// Clip is real, decodable media for tests that need playable files (the recorder): a
// few seconds of VP8 at 15 fps with a keyframe every second, and Opus in 20 ms packets.
type Clip struct {
	Video, Audio [][]byte
}

// MustClip encodes a clip with ffmpeg, or fails the test.
func MustClip(t testing.TB) *Clip {
	t.Helper()
	c, err := MakeClip(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// MakeClip encodes a clip with ffmpeg in dir.
func MakeClip(dir string) (*Clip, error) {
	ivf, ogg := filepath.Join(dir, "clip.ivf"), filepath.Join(dir, "clip.ogg")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-t", "4", "-c:v", "libvpx", "-b:v", "300k", "-g", "15", "-keyint_min", "15",
			"-auto-alt-ref", "0", "-lag-in-frames", "0", "-deadline", "realtime", ivf},
		{"-f", "lavfi", "-i", "sine=frequency=440:duration=4", "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", "-page_duration", "20000", ogg},
	} {
		if out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	c := &Clip{}
	f, err := os.Open(ivf)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("read ivf: %w", err)
	}
	for {
		frame, _, err := r.ParseNextFrame()
		if err != nil {
			break
		}
		c.Video = append(c.Video, frame)
	}
	g, err := os.Open(ogg)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	or, _, err := oggreader.NewWith(g)
	if err != nil {
		return nil, fmt.Errorf("read ogg: %w", err)
	}
	for {
		page, _, err := or.ParseNextPage()
		if err != nil {
			break
		}
		if bytes.HasPrefix(page, []byte("OpusHead")) || bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		c.Audio = append(c.Audio, page)
	}
	if len(c.Video) < 30 || len(c.Audio) < 100 {
		return nil, fmt.Errorf("clip: %d video frames, %d audio packets", len(c.Video), len(c.Audio))
	}
	return c, nil
}

// clipLoop hands out a clip's samples in a circle; a keyframe request restarts it at
// its first frame, a keyframe.
type clipLoop struct {
	samples [][]byte
	dur     time.Duration
	i       int
	restart atomic.Bool
	stop    chan struct{}
}

func (l *clipLoop) NextSample(ctx context.Context) (media.Sample, error) {
	select {
	case <-l.stop:
		return media.Sample{}, io.EOF
	case <-ctx.Done():
		return media.Sample{}, io.EOF
	default:
	}
	if l.restart.Swap(false) {
		l.i = 0
	}
	s := l.samples[l.i%len(l.samples)]
	l.i++
	return media.Sample{Data: s, Duration: l.dur}, nil
}

func (l *clipLoop) OnBind() error   { return nil }
func (l *clipLoop) OnUnbind() error { return nil }
func (l *clipLoop) Close() error    { return nil }

// MustPublishClip publishes the clip's video and audio, looping until the test ends or
// the client closes; it fails the test if publishing fails.
func (c *Client) MustPublishClip(t testing.TB, cl *Clip) {
	t.Helper()
	stop := make(chan struct{})
	var once sync.Once
	end := func() { once.Do(func() { close(stop) }) }
	t.Cleanup(end)
	c.addCloser(end)
	for _, k := range []struct {
		l      *clipLoop
		cap    webrtc.RTPCodecCapability
		source livekit.TrackSource
	}{
		{&clipLoop{samples: cl.Video, dur: time.Second / 15, stop: stop}, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, livekit.TrackSource_CAMERA},
		{&clipLoop{samples: cl.Audio, dur: 20 * time.Millisecond, stop: stop}, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, livekit.TrackSource_MICROPHONE},
	} {
		l := k.l
		track, err := lksdk.NewLocalTrack(k.cap, lksdk.WithRTCPHandler(func(p rtcp.Packet) {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				l.restart.Store(true)
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		track.OnBind(func() {
			if err := track.StartWrite(l, nil); err != nil {
				t.Errorf("start write: %v", err)
			}
		})
		opts := &lksdk.TrackPublicationOptions{Name: strings.ToLower(k.source.String()), Source: k.source}
		if k.source == livekit.TrackSource_CAMERA {
			opts.VideoWidth, opts.VideoHeight = 320, 240
		}
		if _, err := c.Room.LocalParticipant.PublishTrack(track, opts); err != nil {
			t.Fatalf("%s publish: %v", c.Identity, err)
		}
	}
}
