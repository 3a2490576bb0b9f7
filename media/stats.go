package media

import "sync/atomic"

// EngineStats is a snapshot of the engine's counters since it started.
// Packets are counted once per packet read from a publisher (In) and once per
// packet handed to a subscriber's transport or a sink (Forwarded).
type EngineStats struct {
	PacketsIn        uint64
	BytesIn          uint64
	PacketsForwarded uint64
	BytesForwarded   uint64

	// Drops by reason. A drop is one packet not delivered to one subscriber.
	DropsMuted       uint64 // server-side mute
	DropsNotSelected uint64 // waiting for a keyframe on the layer the subscriber switches to
	DropsWriteError  uint64 // the subscriber's transport refused the write
	DropsQueueFull   uint64 // a fan-out worker queue was full (large fan-out only)
	DropsSinkFull    uint64 // a sink (recorder) queue was full
	DropsPadding     uint64 // padding-only packets (bandwidth probes) are not forwarded

	NACKsReceived    uint64 // NACK packets from subscribers
	Retransmits      uint64 // packets sent again for a NACK, from the up track's cache
	NACKMisses       uint64 // NACKed packets not resent: too old for the cache, or never sent
	PLIsSent         uint64 // PLIs we sent to publishers (keyframeask.go)
	KeyframeRequests uint64 // PLI/FIR from subscribers (before throttling)
	PLIsThrottled    uint64 // keyframe requests that sent no PLI: served by the keyframe in flight, or held back by the minimum gap

	// The ICE UDP socket's send system calls (sendmmsg or sendto), and the
	// datagrams that left in a sendmmsg batch (one per fan-out pass).
	UDPSendCalls uint64
	UDPBatched   uint64
	// Of those, the messages that carried several datagrams to one
	// destination with UDP GSO (gso_linux.go), and the datagrams they carried.
	UDPGSOSends     uint64
	UDPGSODatagrams uint64

	// Publishers' packets the socket readers decrypted and forwarded
	// themselves (rxfast.go), and those of such streams SRTP refused.
	RxFast        uint64
	RxFastDropped uint64
	// Subscribers' RTCP datagrams the readers decrypted and handed to down
	// tracks themselves (rxrtcp.go).
	RxFastRTCP uint64

	// RTP packets sent by direct writers (encrypted straight into the send
	// batch, directwrite.go), and those they dropped (no route, too large).
	DirectRTP   uint64
	DirectDrops uint64

	// ForwardLatency is what the server adds to a packet: from reaching the
	// forwarding path to the end of the fan-out pass that sent it, one sample
	// per packet per pass (latency.go).
	ForwardLatency LatencyHistogram
	// AddedLatency is the same from the kernel's receive time of the packet's
	// datagram, for packets the socket reader stamped: it includes the socket
	// queue and the receive hand-offs.
	AddedLatency LatencyHistogram
}

// counters are shared by every track of an engine. Hot counters are added
// once per packet per fan-out batch, not per subscriber, to keep the shared
// cache line cold when a lecture fans out to thousands.
type counters struct {
	packetsIn, bytesIn               atomic.Uint64
	packetsForwarded, bytesForwarded atomic.Uint64

	dropsMuted, dropsNotSelected, dropsWriteError atomic.Uint64
	dropsQueueFull, dropsSinkFull, dropsPadding   atomic.Uint64

	nacksReceived, plisSent, keyframeRequests, plisThrottled atomic.Uint64
	retransmits, nackMisses                                  atomic.Uint64

	fwdLatency   latencyHist // written after each fan-out pass (latency.go)
	addedLatency latencyHist // the same from the kernel's receive stamp
}

func (c *counters) snapshot() EngineStats {
	return EngineStats{
		PacketsIn:        c.packetsIn.Load(),
		BytesIn:          c.bytesIn.Load(),
		PacketsForwarded: c.packetsForwarded.Load(),
		BytesForwarded:   c.bytesForwarded.Load(),
		DropsMuted:       c.dropsMuted.Load(),
		DropsNotSelected: c.dropsNotSelected.Load(),
		DropsWriteError:  c.dropsWriteError.Load(),
		DropsQueueFull:   c.dropsQueueFull.Load(),
		DropsSinkFull:    c.dropsSinkFull.Load(),
		DropsPadding:     c.dropsPadding.Load(),
		NACKsReceived:    c.nacksReceived.Load(),
		Retransmits:      c.retransmits.Load(),
		NACKMisses:       c.nackMisses.Load(),
		PLIsSent:         c.plisSent.Load(),
		KeyframeRequests: c.keyframeRequests.Load(),
		PLIsThrottled:    c.plisThrottled.Load(),
		ForwardLatency:   c.fwdLatency.snapshot(),
		AddedLatency:     c.addedLatency.snapshot(),
	}
}
