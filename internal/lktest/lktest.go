// Package lktest drives real LiveKit Go SDK clients (server-sdk-go) against a yizhan
// server in tests and benchmarks: connect, publish synthetic VP8 and Opus, and count
// what arrives from whom. It is test support; no production package imports it.
package lktest

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Client is one connected participant with counters of what it received.
type Client struct {
	Identity string
	Room     *lksdk.Room

	mu       sync.Mutex           // guards the maps below
	tracks   map[string]*Received // by track SID
	data     []Data
	muted    map[string]bool // track SID -> last muted state seen
	gone     map[string]bool // identities seen leaving
	unpub    map[string]bool // track SIDs seen unpublished
	metadata string
	closers  []func()
	quality  map[string]livekit.ConnectionQuality // participant SID -> last connection quality heard
	ended    lksdk.DisconnectionReason            // why the room disconnected this client; "" while connected
	hook     atomic.Pointer[PacketHook]
}

// Ended says why the room first disconnected this client, or "" while it has not.
func (c *Client) Ended() lksdk.DisconnectionReason {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// PacketHook sees every RTP packet a client receives (pkt is reused after it returns).
type PacketHook func(trackSID, kind string, pkt []byte)

// SetPacketHook makes f see every RTP packet received from now on.
func (c *Client) SetPacketHook(f PacketHook) { c.hook.Store(&f) }

// Received counts the RTP of one subscribed track.
type Received struct {
	TrackSID    string
	Participant string // identity of the publisher
	SID         string // SID of the publisher
	Kind        string
	Packets     atomic.Int64
	Bytes       atomic.Int64
	LastSeq     atomic.Uint32
	// SeqJumps counts sequence numbers that did not follow the previous one by +1
	// (reordering or loss on loopback is rare; a broken rewriter makes many).
	SeqJumps atomic.Int64
	// When the first packet and the first VP8 keyframe packet were read (Unix
	// nanoseconds; 0 until then): join-to-first-frame probes read them.
	firstAt, firstKeyAt atomic.Int64
	// Latency, when the publisher stamped its send time (Stamp), in microseconds.
	latMu        sync.Mutex // guards Latencies, payloads, payloadTypes
	Latencies    []int64
	payloads     [][]byte
	payloadTypes []uint8
}

// Data is one data packet received.
type Data struct {
	From    string
	Topic   string
	Payload []byte
}

func init() {
	// The SDK logs every state change; tests read our own logs instead. A leveled logger
	// that is off, not the discard one: with a logger that is not a zap logger, the SDK's
	// Pion adapter formats every debug line before dropping it, and formatting Pion's
	// structs while Pion writes them is a data race (in the client, not the server) that
	// failed mediation's tests under -race.
	if l, err := protoLogger.NewZapLogger(&protoLogger.Config{Level: "fatal"}); err == nil {
		lksdk.SetLogger(l)
	} else {
		lksdk.SetLogger(protoLogger.GetDiscardLogger())
	}
}

// Connect joins url (ws://host:port) with token and starts counting.
func Connect(url, token string, opts ...lksdk.ConnectOption) (*Client, error) {
	c := &Client{
		tracks:  map[string]*Received{},
		muted:   map[string]bool{},
		gone:    map[string]bool{},
		unpub:   map[string]bool{},
		quality: map[string]livekit.ConnectionQuality{},
	}
	cb := lksdk.NewRoomCallback()
	cb.OnConnectionQualityChanged = func(q *livekit.ConnectionQualityInfo, _ lksdk.Participant) {
		c.mu.Lock()
		c.quality[q.ParticipantSid] = q.Quality
		c.mu.Unlock()
	}
	cb.OnTrackSubscribed = c.onTrack
	cb.OnDataPacket = func(d lksdk.DataPacket, p lksdk.DataReceiveParams) {
		if u, ok := d.(*lksdk.UserDataPacket); ok {
			c.mu.Lock()
			c.data = append(c.data, Data{From: p.SenderIdentity, Topic: u.Topic, Payload: u.Payload})
			c.mu.Unlock()
		}
	}
	cb.OnTrackMuted = func(pub lksdk.TrackPublication, _ lksdk.Participant) { c.setMuted(pub.SID(), true) }
	cb.OnTrackUnmuted = func(pub lksdk.TrackPublication, _ lksdk.Participant) { c.setMuted(pub.SID(), false) }
	cb.OnParticipantDisconnected = func(rp *lksdk.RemoteParticipant) {
		c.mu.Lock()
		c.gone[rp.Identity()] = true
		c.mu.Unlock()
	}
	cb.OnTrackUnpublished = func(pub *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		c.mu.Lock()
		c.unpub[pub.SID()] = true
		c.mu.Unlock()
	}
	cb.OnDisconnectedWithReason = func(why lksdk.DisconnectionReason) {
		c.mu.Lock()
		if c.ended == "" { // the first: a resume that hears a Leave is also reported as failed after it
			c.ended = why
		}
		c.mu.Unlock()
	}
	cb.OnRoomMetadataChanged = func(md string) {
		c.mu.Lock()
		c.metadata = md
		c.mu.Unlock()
	}
	opts = append([]lksdk.ConnectOption{lksdk.WithConnectTimeout(10 * time.Second)}, opts...)
	room, err := lksdk.ConnectToRoomWithToken(url, token, cb, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	c.Room = room
	c.Identity = string(room.LocalParticipant.Identity())
	return c, nil
}

// Quality is the last connection quality heard for the participant sid.
func (c *Client) Quality(sid string) (q livekit.ConnectionQuality, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok = c.quality[sid]
	return q, ok
}

func (c *Client) setMuted(sid string, m bool) {
	c.mu.Lock()
	c.muted[sid] = m
	c.mu.Unlock()
}

func (c *Client) onTrack(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
	r := &Received{TrackSID: pub.SID(), Participant: rp.Identity(), SID: rp.SID(), Kind: track.Kind().String()}
	c.mu.Lock()
	c.tracks[pub.SID()] = r
	c.mu.Unlock()
	go func() { // ends when the track ends
		buf := make([]byte, 1500)
		first := true
		for {
			n, _, err := track.Read(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			seq := uint32(binary.BigEndian.Uint16(buf[2:4]))
			if !first && uint16(seq) != uint16(r.LastSeq.Load()+1) {
				r.SeqJumps.Add(1)
			}
			if first || (r.Kind == "video" && r.firstKeyAt.Load() == 0) {
				now := time.Now().UnixNano()
				r.firstAt.CompareAndSwap(0, now)
				if r.Kind == "video" && vp8Keyframe(buf[:n]) {
					r.firstKeyAt.Store(now)
				}
			}
			first = false
			r.LastSeq.Store(seq)
			r.Packets.Add(1)
			r.Bytes.Add(int64(n))
			r.keepPayload(buf[:n])
			if h := c.hook.Load(); h != nil {
				(*h)(r.TrackSID, r.Kind, buf[:n])
			}
			if at, ok := stampIn(buf[:n]); ok {
				r.latMu.Lock()
				if len(r.Latencies) < 1<<20 {
					r.Latencies = append(r.Latencies, time.Since(at).Microseconds())
				}
				r.latMu.Unlock()
			}
		}
	}()
}

// FirstPacket is when the first packet of the track was read (zero before).
func (r *Received) FirstPacket() time.Time { return unixNanoTime(r.firstAt.Load()) }

// FirstKeyframe is when the first packet of a VP8 keyframe was read (zero before).
func (r *Received) FirstKeyframe() time.Time { return unixNanoTime(r.firstKeyAt.Load()) }

func unixNanoTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// vp8Keyframe tells whether an RTP packet carries the start of a VP8 keyframe
// (RFC 7741 §4.2-4.3: S bit, partition 0, then P = 0 in the payload header).
func vp8Keyframe(pkt []byte) bool {
	var p rtp.Packet
	if p.Unmarshal(pkt) != nil {
		return false
	}
	b := p.Payload
	if len(b) < 2 || b[0]&0x10 == 0 || b[0]&0x07 != 0 {
		return false
	}
	i := 1
	if b[0]&0x80 != 0 { // X
		x := b[1]
		i++
		if x&0x80 != 0 { // I
			if len(b) > i && b[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 {
			i++
		}
		if x&0x30 != 0 {
			i++
		}
	}
	return len(b) > i && b[i]&0x01 == 0
}

// keepPayload keeps a copy of the first few payloads (tests look at what the
// server made of them, e.g. RED stripped to Opus).
func (r *Received) keepPayload(pkt []byte) {
	r.latMu.Lock()
	defer r.latMu.Unlock()
	if len(r.payloads) >= 50 {
		return
	}
	var p rtp.Packet
	if p.Unmarshal(pkt) == nil {
		r.payloads = append(r.payloads, append([]byte(nil), p.Payload...))
		r.payloadTypes = append(r.payloadTypes, p.PayloadType)
	}
}

// FirstPayloads returns copies of the first payloads received (up to 50) and their payload types.
func (r *Received) FirstPayloads() ([][]byte, []uint8) {
	r.latMu.Lock()
	defer r.latMu.Unlock()
	return append([][]byte(nil), r.payloads...), append([]uint8(nil), r.payloadTypes...)
}

// TakeLatencies returns and clears the latency samples of r.
func (r *Received) TakeLatencies() []int64 {
	r.latMu.Lock()
	defer r.latMu.Unlock()
	out := r.Latencies
	r.Latencies = nil
	return out
}

// Tracks returns what this client receives, by track SID.
func (c *Client) Tracks() map[string]*Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*Received, len(c.tracks))
	for k, v := range c.tracks {
		out[k] = v
	}
	return out
}

// PacketsFrom sums the packets received from one identity (of a kind, or "" for all).
func (c *Client) PacketsFrom(identity, kind string) int64 {
	var n int64
	for _, r := range c.Tracks() {
		if r.Participant == identity && (kind == "" || r.Kind == kind) {
			n += r.Packets.Load()
		}
	}
	return n
}

// DataFrom returns the data packets received from identity.
func (c *Client) DataFrom(identity string) []Data {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Data
	for _, d := range c.data {
		if d.From == identity {
			out = append(out, d)
		}
	}
	return out
}

// MutedSeen reports the last mute state seen for a remote track, and whether any was.
func (c *Client) MutedSeen(trackSID string) (muted, seen bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.muted[trackSID]
	return m, ok
}

// SawLeave reports whether identity was seen disconnecting.
func (c *Client) SawLeave(identity string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gone[identity]
}

// SawUnpublish reports whether a remote track was seen unpublished.
func (c *Client) SawUnpublish(trackSID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unpub[trackSID]
}

// Metadata is the last room metadata seen.
func (c *Client) Metadata() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metadata
}

// Close stops publishing and disconnects.
func (c *Client) Close() {
	c.mu.Lock()
	closers := c.closers
	c.closers = nil
	c.mu.Unlock()
	for _, f := range closers {
		f()
	}
	c.Room.Disconnect()
}

// Eventually polls cond every 20ms until it holds or timeout passes.
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
