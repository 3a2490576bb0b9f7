package lktest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Synthetic media: RTP written packet by packet so that every packet carries its send
// time (for latency) and frames have the right shape for an SFU (VP8 payload
// descriptor, keyframe bit, marker on a frame's last packet). The payload is not a
// decodable picture; the SFU never decodes.

// stampMagic precedes the 8-byte send time inside a payload.
var stampMagic = []byte("YZTS")

const maxPayload = 1100

// VideoOptions shapes a synthetic VP8 stream.
type VideoOptions struct {
	Name          string
	BitrateKbps   int           // default 1500
	FPS           int           // default 30
	KeyframeEvery time.Duration // default 2s; a PLI also forces one
	Simulcast     *livekit.VideoLayer
}

// Publication is a synthetic track being sent.
type Publication struct {
	SID    string
	Pub    *lksdk.LocalTrackPublication
	Track  *lksdk.LocalTrack
	PLIs   atomic.Int64 // keyframe requests received from the server
	Frames atomic.Int64
	Sent   atomic.Int64 // RTP packets written
	stop   chan struct{}
	done   chan struct{}
	pli    atomic.Bool
	level  atomic.Uint32 // audio level sent in -dBov (127 = silence)
}

// SetLevel sets the audio level (-dBov: 0 loudest, 127 silence) the synthetic audio
// announces in its RFC 6464 header extension.
func (p *Publication) SetLevel(dBov uint8) { p.level.Store(uint32(dBov)) }

// Stop ends the stream (the track stays published).
func (p *Publication) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// PublishVP8 publishes a synthetic VP8 camera track and starts sending.
func (c *Client) PublishVP8(o VideoOptions) (*Publication, error) {
	if o.BitrateKbps == 0 {
		o.BitrateKbps = 1500
	}
	if o.FPS == 0 {
		o.FPS = 30
	}
	if o.KeyframeEvery == 0 {
		o.KeyframeEvery = 2 * time.Second
	}
	if o.Name == "" {
		o.Name = "camera"
	}
	p := &Publication{stop: make(chan struct{}), done: make(chan struct{})}
	track, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
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
	pub, err := c.Room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name: o.Name, Source: livekit.TrackSource_CAMERA, VideoWidth: 640, VideoHeight: 360,
	})
	if err != nil {
		return nil, fmt.Errorf("publish vp8: %w", err)
	}
	p.SID, p.Pub, p.Track = pub.SID(), pub, track
	go p.sendVideo(track, o) // ends on Stop
	c.addCloser(p.Stop)
	return p, nil
}

// PublishOpus publishes a synthetic Opus microphone track (20 ms packets).
func (c *Client) PublishOpus(name string) (*Publication, error) {
	if name == "" {
		name = "microphone"
	}
	p := &Publication{stop: make(chan struct{}), done: make(chan struct{})}
	p.SetLevel(127)
	track, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		return nil, err
	}
	pub, err := c.Room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: name, Source: livekit.TrackSource_MICROPHONE})
	if err != nil {
		return nil, fmt.Errorf("publish opus: %w", err)
	}
	p.SID, p.Pub, p.Track = pub.SID(), pub, track
	go p.sendAudio(track) // ends on Stop
	c.addCloser(p.Stop)
	return p, nil
}

func (c *Client) addCloser(f func()) {
	c.mu.Lock()
	c.closers = append(c.closers, f)
	c.mu.Unlock()
}

func (p *Publication) sendVideo(track *lksdk.LocalTrack, o VideoOptions) {
	defer close(p.done)
	frameBytes := o.BitrateKbps * 1000 / 8 / o.FPS
	interval := time.Second / time.Duration(o.FPS)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	lastKey := time.Time{}
	buf := make([]byte, maxPayload+32)
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		key := p.pli.Swap(false) || time.Since(lastKey) >= o.KeyframeEvery
		if key {
			lastKey = time.Now()
		}
		remaining := frameBytes
		first := true
		for remaining > 0 || first {
			n := min(remaining, maxPayload)
			payload := buf[:0]
			// VP8 payload descriptor (RFC 7741 §4.2): S bit on a frame's first packet.
			if first {
				payload = append(payload, 0x10)
				// Frame tag: bit 0 is 0 on a keyframe; then the keyframe start code and size.
				if key {
					payload = append(payload, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01)
				} else {
					payload = append(payload, 0x11, 0x02, 0x00)
				}
			} else {
				payload = append(payload, 0x00)
			}
			payload = appendStamp(payload)
			if pad := n - len(payload); pad > 0 {
				payload = append(payload, make([]byte, pad)...)
			}
			remaining -= n
			last := remaining <= 0
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: last}, Payload: payload}
			seq++
			first = false
			if err := track.WriteRTP(pkt, nil); err == nil {
				p.Sent.Add(1)
			}
			if last {
				break
			}
		}
		p.Frames.Add(1)
		ts += 90000 / uint32(o.FPS)
	}
}

func (p *Publication) sendAudio(track *lksdk.LocalTrack) {
	defer close(p.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		payload := appendStamp([]byte{0xfc}) // an Opus TOC byte, then our stamp
		payload = append(payload, make([]byte, 80)...)
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: true}, Payload: payload}
		level := uint8(p.level.Load())
		if err := track.WriteRTP(pkt, &lksdk.SampleWriteOptions{AudioLevel: &level}); err == nil {
			p.Sent.Add(1)
		}
		seq++
		ts += 960
		p.Frames.Add(1)
	}
}

func appendStamp(b []byte) []byte {
	b = append(b, stampMagic...)
	return binary.BigEndian.AppendUint64(b, uint64(time.Now().UnixNano()))
}

// stampIn finds our send-time stamp in a raw RTP packet.
func stampIn(pkt []byte) (time.Time, bool) {
	var h rtp.Header
	n, err := h.Unmarshal(pkt)
	if err != nil {
		return time.Time{}, false
	}
	payload := pkt[n:]
	if len(payload) > 32 {
		payload = payload[:32]
	}
	i := bytes.Index(payload, stampMagic)
	if i < 0 || i+4+8 > len(payload) {
		return time.Time{}, false
	}
	ns := binary.BigEndian.Uint64(payload[i+4:])
	return time.Unix(0, int64(ns)), true
}
