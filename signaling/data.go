package signaling

import (
	"sync"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// Data channel labels the clients open on the publisher connection. They read data
// from us on the same channels.
const (
	labelReliable = "_reliable"
	labelLossy    = "_lossy"
	maxDataBytes  = 64 << 10 // larger user packets are refused (clients chunk streams)
)

// maxPendingData bounds packets held for a participant whose data channel is
// not open yet (it just joined): they are delivered when it opens.
const maxPendingData = 128

type dataChannels struct {
	mu       sync.Mutex // guards everything below
	reliable *webrtc.DataChannel
	lossy    *webrtc.DataChannel
	open     bool     // reliable is open
	pending  [][]byte // packets waiting for open, sent on reliable
	held     int      // bytes in pending
}

func (p *participant) onDataChannel(dc *webrtc.DataChannel) {
	label := dc.Label()
	switch label {
	case labelReliable, labelLossy:
	default:
		return // _data_track and others: not forwarded yet
	}
	p.dc.mu.Lock()
	if label == labelReliable {
		p.dc.reliable = dc
		dc.OnOpen(p.dataOpen)
	} else {
		p.dc.lossy = dc
	}
	p.dc.mu.Unlock()
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { p.handleData(label, msg.Data) })
}

// handleData stamps a client's packet with its sender and forwards it within the
// sender's space: to the listed identities, or to everyone else there.
func (p *participant) handleData(label string, b []byte) {
	if len(b) > maxDataBytes {
		p.log.Warn("data packet too large; dropped", "bytes", len(b))
		return
	}
	dp := &livekit.DataPacket{}
	if err := proto.Unmarshal(b, dp); err != nil {
		p.log.Warn("malformed data packet; dropped", "err", err)
		return
	}
	switch dp.Value.(type) {
	case *livekit.DataPacket_User, *livekit.DataPacket_ChatMessage, *livekit.DataPacket_RpcRequest,
		*livekit.DataPacket_RpcResponse, *livekit.DataPacket_RpcAck, *livekit.DataPacket_StreamHeader,
		*livekit.DataPacket_StreamChunk, *livekit.DataPacket_StreamTrailer, *livekit.DataPacket_Transcription,
		*livekit.DataPacket_SipDtmf, *livekit.DataPacket_Metrics, *livekit.DataPacket_EncryptedPacket:
	default:
		return // speaker updates are the server's to send
	}
	r := p.room
	r.mu.Lock()
	if !p.perm.CanPublishData {
		r.mu.Unlock()
		return
	}
	dests := dp.DestinationIdentities
	if u := dp.GetUser(); u != nil && len(dests) == 0 {
		dests = u.DestinationIdentities
	}
	targets := r.dataTargetsLocked(p, dests)
	r.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	dp.ParticipantIdentity = p.identity
	dp.ParticipantSid = p.sid //nolint:staticcheck // older clients read this field
	if u := dp.GetUser(); u != nil {
		u.ParticipantIdentity = p.identity
		u.ParticipantSid = p.sid //nolint:staticcheck
	}
	out, err := proto.Marshal(dp)
	if err != nil {
		return
	}
	for _, q := range targets {
		q.sendData(label, out)
	}
}

func (p *participant) sendData(label string, b []byte) {
	p.dc.mu.Lock()
	if !p.dc.open {
		// The participant just joined: hold packets (of both kinds, bounded) until its
		// channel opens, rather than lose the first words said to it.
		if len(p.dc.pending) < maxPendingData && p.dc.held+len(b) <= p.room.srv.cfg.Limits.PendingDataBytes {
			p.dc.pending = append(p.dc.pending, b)
			p.dc.held += len(b)
		} else {
			p.room.srv.hits.pendingData.Add(1)
		}
		p.dc.mu.Unlock()
		return
	}
	dc := p.dc.reliable
	if label == labelLossy && p.dc.lossy != nil {
		dc = p.dc.lossy
	}
	p.dc.mu.Unlock()
	if err := dc.Send(b); err != nil {
		p.log.Debug("send data", "err", err)
	}
}

// dataOpen delivers what waited for the reliable channel.
func (p *participant) dataOpen() {
	p.dc.mu.Lock()
	p.dc.open = true
	pending := p.dc.pending
	p.dc.pending, p.dc.held = nil, 0
	dc := p.dc.reliable
	p.dc.mu.Unlock()
	for _, b := range pending {
		if err := dc.Send(b); err != nil {
			p.log.Debug("send data", "err", err)
		}
	}
}
