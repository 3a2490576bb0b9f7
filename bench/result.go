package bench

// Result is one scenario's measurement, printed as one JSON line.
type Result struct {
	Scenario    string  `json:"scenario"`
	Server      string  `json:"server,omitempty"` // "yizhan" or "livekit-server" (sfubench --livekit-server)
	Publishers  int     `json:"publishers"`
	Subscribers int     `json:"subscribers"` // participants that subscribe (in a meeting: all)
	DurationS   float64 `json:"duration_s"`  // measurement window

	ForwardedPPS float64 `json:"forwarded_pps"` // RTP packets received by all subscribers, per second
	ExpectedPPS  float64 `json:"expected_pps"`  // packets sent by publishers x subscribers that should get them
	Loss         float64 `json:"loss"`          // 1 - received/expected over the window

	ServerCPUUsPerPacket  float64 `json:"server_cpu_us_per_packet"`  // server user+sys CPU / forwarded packets
	ServerCPUCores        float64 `json:"server_cpu_cores"`          // average over the window
	ServerPinned          bool    `json:"server_pinned"`             // taskset -c N + GOMAXPROCS=1
	ServerCtxSwitchesPerS float64 `json:"server_ctx_switches_per_s"` // all threads, voluntary + involuntary
	// System calls of the server per forwarded packet (perf stat on the syscall
	// tracepoints; absent without perf or root): all of them, the sends
	// (sendto/sendmsg/sendmmsg/write) and the receives (recvfrom/recvmsg/recvmmsg/read).
	ServerSyscallsPerPacket  float64 `json:"server_syscalls_per_packet,omitempty"`
	ServerSendCallsPerPacket float64 `json:"server_send_calls_per_packet,omitempty"`
	ServerRecvCallsPerPacket float64 `json:"server_recv_calls_per_packet,omitempty"`
	ClientCPUCores           float64 `json:"client_cpu_cores"` // this process (all clients)

	LatencyUsP50   int64 `json:"latency_us_p50"` // send stamp to subscriber Read, loopback, same clock
	LatencyUsP99   int64 `json:"latency_us_p99"`
	LatencyUsMax   int64 `json:"latency_us_max"`
	LatencySamples int   `json:"latency_samples"`
	// What yizhan adds by its own measure (its media latency histograms, read from its
	// /metrics for the window; one sample per packet per fan-out pass; absent for
	// livekit-server): from the kernel's receive time of a packet's datagram to the
	// end of the fan-out pass that handed its copies to the kernel (added), and the
	// part of that from the packet reaching the forwarding path (fwd).
	ServerAddedP50Us   float64 `json:"server_added_p50_us,omitempty"`
	ServerAddedP99Us   float64 `json:"server_added_p99_us,omitempty"`
	ServerAddedP999Us  float64 `json:"server_added_p999_us,omitempty"`
	ServerAddedMeanUs  float64 `json:"server_added_mean_us,omitempty"`
	ServerAddedSamples int64   `json:"server_added_samples,omitempty"`
	ServerFwdP50Us     float64 `json:"server_fwd_p50_us,omitempty"`
	ServerFwdP99Us     float64 `json:"server_fwd_p99_us,omitempty"`
	ServerFwdSamples   int64   `json:"server_fwd_samples,omitempty"`
	// yizhan's sends in the window (its /metrics): datagrams per send system call,
	// datagrams per UDP GSO message, and the share of datagrams sent through GSO.
	ServerDatagramsPerCall   float64 `json:"server_datagrams_per_call,omitempty"`
	ServerGSODatagramsPerMsg float64 `json:"server_gso_datagrams_per_msg,omitempty"`
	ServerGSOShare           float64 `json:"server_gso_share,omitempty"`
	JoinToFirstP50           int64   `json:"join_to_first_frame_ms_p50"` // connect start to first video packet of a publisher
	JoinToFirstP99           int64   `json:"join_to_first_frame_ms_p99"`
	JoinSamples              int     `json:"join_samples"`
	// Connect start to the first packet of a VP8 keyframe of a publisher (an SFU that
	// waits for a keyframe sends that first, so it equals the first frame).
	JoinToKeyframeP50 int64   `json:"join_to_first_keyframe_ms_p50,omitempty"`
	JoinToKeyframeP99 int64   `json:"join_to_first_keyframe_ms_p99,omitempty"`
	KeyframeEveryMS   int64   `json:"keyframe_every_ms,omitempty"` // the publishers' keyframe interval (--keyframe-every)
	JoinGapMS         int64   `json:"join_gap_ms,omitempty"`       // pause between joins (--join-gap)
	JoinMissing       int     `json:"join_missing,omitempty"`      // expected first frames that never came
	RSSMB             float64 `json:"rss_mb"`
	IdleRSSMB         float64 `json:"idle_rss_mb"`
	RSSPerPartKB      float64 `json:"rss_per_participant_kb"`  // (rss - idle rss) / participants; lecture: RSS growth over the storm / viewers
	Recording         bool    `json:"recording,omitempty"`     // the session recorded (active and healthy) through the window
	DataDirKbps       float64 `json:"data_dir_kbps,omitempty"` // growth of the server's data directory (recordings) over the window
	SeqJumps          int64   `json:"seq_jumps"`               // over the window, all subscribers
	PLIs              int64   `json:"plis"`                    // keyframe requests publishers got in the window
	Realtime          bool    `json:"realtime,omitempty"`      // server and clients in SCHED_FIFO (--rt)
	Nice              int     `json:"nice,omitempty"`          // nice value of server and clients
	HostLoad1         float64 `json:"host_load1"`              // 1-minute load average as the window opened
	// Lecture scenarios: signal messages the server sent per viewer's join during the
	// storm (to the joiner and to everyone else), and room updates (the throttled
	// audience count) and pongs apart, which follow the clock, not the joins.
	SignalPerJoin      float64 `json:"signal_msgs_per_join,omitempty"`
	RoomUpdatesPerJoin float64 `json:"room_updates_per_join,omitempty"`
	StormS             float64 `json:"join_storm_s,omitempty"` // first join to last first frame
	StormPLIs          int64   `json:"storm_plis,omitempty"`   // keyframe requests the speaker got during the storm (all layers)
	// SeqLoss is loss counted by the (lean) viewers from sequence-number gaps, beside
	// Loss (publisher's packets x viewers): the two agree unless a track is missing.
	SeqLoss float64 `json:"seq_loss,omitempty"`
	Error   string  `json:"error,omitempty"`
}
