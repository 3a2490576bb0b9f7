package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"yizhan/media"
	"yizhan/signaling"
)

// Descriptions of the metrics read from the sources at scrape time.
var (
	descRooms        = desc("rooms", "Rooms open now.")
	descParticipants = desc("participants", "Participants connected now, in every room.")
	descTracks       = desc("tracks", "Tracks published now, in every room.")
	descSignalSent   = desc("signal_messages_sent_total", "Signal messages queued to clients, by kind: room_update (throttled audience counts, metadata), pong, link (quality, stream state, dynacast), other.", "kind")

	descPacketsIn   = desc("media_packets_received_total", "RTP packets read from publishers.")
	descBytesIn     = desc("media_bytes_received_total", "RTP bytes read from publishers.")
	descPacketsFwd  = desc("media_packets_forwarded_total", "RTP packets handed to subscribers and recorders.")
	descBytesFwd    = desc("media_bytes_forwarded_total", "RTP bytes handed to subscribers and recorders.")
	descDrops       = desc("media_dropped_packets_total", "Packets not delivered to one subscriber or recorder, by reason.", "reason")
	descNACKs       = desc("media_nacks_received_total", "NACKs received from subscribers (answered from the retransmission buffer).")
	descPLIs        = desc("media_plis_sent_total", "Picture loss indications sent to publishers, after throttling.")
	descKeyframeReq = desc("media_keyframe_requests_total", "Keyframe requests (PLI/FIR) received from subscribers, before throttling.")
	descPLIThrottle = desc("media_plis_throttled_total", "Keyframe requests that sent no PLI: a keyframe already asked for serves them, or the last PLI is too recent (per layer: one in flight, one per 100 ms, and five at once then four a second).")
	descRetransmits = desc("media_retransmits_total", "Packets sent again to subscribers for their NACKs, from the up track's packet cache.")
	descNACKMisses  = desc("media_nack_misses_total", "NACKed packets not sent again: older than the packet cache, or never forwarded to that subscriber.")
	descUDPCalls    = desc("media_udp_send_calls_total", "System calls that sent datagrams on the ICE UDP socket (sendmmsg: one per batch of a fan-out pass).")
	descUDPBatched  = desc("media_udp_datagrams_sent_total", "Datagrams sent on the ICE UDP socket through those calls; divided by media_udp_send_calls_total, the mean batch.")
	descUDPGSO      = desc("media_udp_gso_sends_total", "Messages on the ICE UDP socket that carried several datagrams to one subscriber with UDP GSO (UDP_SEGMENT), within those calls.")
	descUDPGSODgram = desc("media_udp_gso_datagrams_total", "Datagrams those GSO messages carried; divided by media_udp_gso_sends_total, the mean GSO run.")
	descRxFast      = desc("media_fast_received_packets_total", "Publishers' RTP packets the socket readers decrypted and forwarded themselves, without Pion's receive goroutines.")
	descRxFastDrop  = desc("media_fast_refused_packets_total", "Packets of such streams SRTP refused in the socket readers (replays, forgeries, a rollover guess that failed).")
	descRxFastRTCP  = desc("media_fast_rtcp_packets_total", "Subscribers' RTCP datagrams the socket readers decrypted and handed to down tracks themselves.")
	descDirectRTP   = desc("media_direct_sent_packets_total", "RTP packets encrypted straight into the send batch (the direct writer), not through Pion's write path.")
	descDirectDrops = desc("media_direct_dropped_packets_total", "RTP packets a direct writer dropped: its connection's ICE pair left the UDP port, or the packet was too large.")
	descFwdLatency  = desc("media_forward_latency_seconds", "The forwarding path's part of a packet's trip: from reaching it (decrypted) to the end of the fan-out pass that handed its copies to the kernel; one sample per packet per pass.")
	descAddLatency  = desc("media_added_latency_seconds", "What the SFU adds to a packet: from the kernel's receive time of its datagram to the end of the fan-out pass that handed its copies to the kernel (socket queue and receive hand-offs included); one sample per packet per pass, for packets the socket reader stamped.")

	descRecActive = desc("recordings_active", "Recordings running now.")
	descRecFailed = desc("recordings_failed_total", "Recordings that failed since start.")

	descTURNAllocs  = desc("turn_allocations", "Embedded TURN relays in use now.")
	descTURNRefused = desc("turn_refused_packets_total", "Packets the embedded TURN refused to relay: not to or from the SFU.")

	descQuality   = desc("participants_by_quality", "Participants now by connection quality (excellent, good, poor, lost).", "quality")
	descLayers    = desc("subscribed_video_layers", "Video tracks being received now, by the simulcast layer chosen for the subscriber (paused: no room on its link).", "layer")
	descEstimates = desc("subscriber_bandwidth_estimate_bps", "Downlink bandwidth estimates of the participants receiving media now.")

	descCertExpiry = desc("tls_certificate_expiry_timestamp_seconds", "When the TLS certificate being served expires (Unix time); it is reloaded when its files are replaced.")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(ns+"_"+name, help, labels, nil)
}

// sourceCollector reads the sources once per scrape, so that one scrape is one
// consistent snapshot of each.
type sourceCollector struct{ r *Registry }

func (c sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descRooms, descParticipants, descTracks, descSignalSent,
		descPacketsIn, descBytesIn, descPacketsFwd, descBytesFwd, descDrops,
		descNACKs, descPLIs, descKeyframeReq, descPLIThrottle,
		descRetransmits, descNACKMisses, descUDPCalls, descUDPBatched, descUDPGSO, descUDPGSODgram,
		descRxFast, descRxFastDrop, descRxFastRTCP, descDirectRTP, descDirectDrops, descFwdLatency, descAddLatency,
		descRecActive, descRecFailed, descTURNAllocs, descTURNRefused, descCertExpiry,
		descQuality, descLayers, descEstimates,
	} {
		ch <- d
	}
}

func (c sourceCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.r
	r.mu.Lock()
	live, med, rec, turn, cert := r.live, r.media, r.recordings, r.turn, r.certExpiry
	r.mu.Unlock()

	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	if live != nil {
		s := live()
		gauge(descRooms, float64(s.Rooms))
		gauge(descParticipants, float64(s.Participants))
		gauge(descTracks, float64(s.Tracks))
		collectLinks(ch, s.Links)
		sig := s.Signal
		counter(descSignalSent, sig.RoomUpdates, "room_update")
		counter(descSignalSent, sig.Pongs, "pong")
		counter(descSignalSent, sig.Links, "link")
		counter(descSignalSent, sig.Sent-sig.RoomUpdates-sig.Pongs-sig.Links, "other")
	}
	if med != nil {
		s := med()
		counter(descPacketsIn, s.PacketsIn)
		counter(descBytesIn, s.BytesIn)
		counter(descPacketsFwd, s.PacketsForwarded)
		counter(descBytesFwd, s.BytesForwarded)
		for _, d := range []struct {
			reason string
			n      uint64
		}{
			{"muted", s.DropsMuted},
			{"not_selected", s.DropsNotSelected},
			{"write_error", s.DropsWriteError},
			{"queue_full", s.DropsQueueFull},
			{"sink_full", s.DropsSinkFull},
			{"padding", s.DropsPadding},
		} {
			counter(descDrops, d.n, d.reason)
		}
		counter(descNACKs, s.NACKsReceived)
		counter(descPLIs, s.PLIsSent)
		counter(descKeyframeReq, s.KeyframeRequests)
		counter(descPLIThrottle, s.PLIsThrottled)
		counter(descRetransmits, s.Retransmits)
		counter(descNACKMisses, s.NACKMisses)
		counter(descUDPCalls, s.UDPSendCalls)
		counter(descUDPBatched, s.UDPBatched)
		counter(descUDPGSO, s.UDPGSOSends)
		counter(descUDPGSODgram, s.UDPGSODatagrams)
		counter(descRxFast, s.RxFast)
		counter(descRxFastDrop, s.RxFastDropped)
		counter(descRxFastRTCP, s.RxFastRTCP)
		counter(descDirectRTP, s.DirectRTP)
		counter(descDirectDrops, s.DirectDrops)
		if h := s.ForwardLatency; len(h.BoundsUs) > 0 {
			ch <- latencyHistogram(descFwdLatency, h)
		}
		if h := s.AddedLatency; len(h.BoundsUs) > 0 {
			ch <- latencyHistogram(descAddLatency, h)
		}
	}
	if rec != nil {
		active, failed := rec()
		gauge(descRecActive, float64(active))
		counter(descRecFailed, uint64(max(failed, 0)))
	}
	if turn != nil {
		s := turn()
		gauge(descTURNAllocs, float64(s.Allocations))
		counter(descTURNRefused, s.Refused)
	}
	if cert != nil {
		gauge(descCertExpiry, float64(cert().Unix()))
	}
}

// latencyHistogram turns the SFU's latency histogram (per-bucket counts,
// bounds in microseconds) into a Prometheus one (cumulative, in seconds).
func latencyHistogram(d *prometheus.Desc, h media.LatencyHistogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.BoundsUs))
	var cum uint64
	for i, b := range h.BoundsUs {
		cum += h.Counts[i]
		buckets[float64(b)/1e6] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count, float64(h.SumNs)/1e9, buckets)
}

// estimateBuckets are downlink rates a link can be in, bits per second: audio
// only, one small video, a medium, a full, several.
var estimateBuckets = []float64{100e3, 200e3, 300e3, 500e3, 1e6, 2e6, 4e6}

// collectLinks reports the aggregated links: quality counts, the layer
// histogram and the distribution of bandwidth estimates (a histogram made at
// scrape time from the current estimates).
func collectLinks(ch chan<- prometheus.Metric, l signaling.LinkStats) {
	for _, q := range []string{"excellent", "good", "poor", "lost"} {
		ch <- prometheus.MustNewConstMetric(descQuality, prometheus.GaugeValue, float64(l.Quality[q]), q)
	}
	for i, name := range []string{"paused", "low", "medium", "high"} {
		ch <- prometheus.MustNewConstMetric(descLayers, prometheus.GaugeValue, float64(l.Layers[i]), name)
	}
	buckets := make(map[float64]uint64, len(estimateBuckets))
	var sum float64
	for _, e := range l.Estimates {
		sum += e
		for _, b := range estimateBuckets {
			if e <= b {
				buckets[b]++
			}
		}
	}
	ch <- prometheus.MustNewConstHistogram(descEstimates, uint64(len(l.Estimates)), sum, buckets)
}
