package lktest

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// WithRED makes a client that, like Chrome, negotiates RED audio (RFC 2198)
// beside Opus and VP8.
func WithRED() lksdk.ConnectOption {
	return lksdk.WithCodecs([]livekit.Codec{{Mime: "audio/opus"}, {Mime: "audio/red"}, {Mime: "video/VP8"}})
}

// PublishRED publishes synthetic audio as RED: every 20 ms packet carries its
// frame (primary, starting 0xfc 'P' and a frame counter) and the previous one
// again (redundancy). The client must be connected WithRED.
func (c *Client) PublishRED(name string) (*Publication, error) {
	p := &Publication{stop: make(chan struct{}), done: make(chan struct{})}
	// A plain Pion track: the SDK's LocalTrack has no packetizer for RED and
	// refuses to bind it.
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: "audio/red", ClockRate: 48000, Channels: 2, SDPFmtpLine: "111/111"},
		fmt.Sprintf("red-%s-%d", c.Identity, time.Now().UnixNano()), "red-"+c.Identity)
	if err != nil {
		return nil, err
	}
	pub, err := c.Room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: name, Source: livekit.TrackSource_MICROPHONE})
	if err != nil {
		return nil, fmt.Errorf("publish red: %w", err)
	}
	p.SID, p.Pub = pub.SID(), pub
	go func() { // ends on Stop
		defer close(p.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var seq uint16
		var ts uint32
		var prev []byte
		for n := uint32(0); ; n++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			primary := binary.BigEndian.AppendUint32([]byte{0xfc, 'P'}, n)
			primary = append(primary, make([]byte, 60)...)
			payload := REDPayload(primary, prev, 960)
			prev = primary
			if err := track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts}, Payload: payload}); err == nil {
				p.Sent.Add(1)
			}
			seq++
			ts += 960
		}
	}()
	c.addCloser(p.Stop)
	return p, nil
}

// REDPayload builds an RFC 2198 payload of Opus (payload type 111) frames:
// one redundant block (the previous frame, tsOffset earlier) when prev is
// set, then the primary.
func REDPayload(primary, prev []byte, tsOffset uint32) []byte {
	var out []byte
	if prev != nil {
		hdr := uint32(tsOffset&0x3fff)<<10 | uint32(len(prev)&0x3ff)
		out = append(out, 0x80|111)
		out = append(out, byte(hdr>>16), byte(hdr>>8), byte(hdr))
	}
	out = append(out, 111)
	out = append(out, prev...)
	return append(out, primary...)
}
