package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"yizhan/internal/lktest"
)

// RunConfig shapes how a scenario is driven.
type RunConfig struct {
	Duration      time.Duration // measurement window (default 10 s)
	Warmup        time.Duration // after everyone has their first frames (default 2 s)
	FirstFrameMax time.Duration // how long a joiner waits for its first frames (default 10 s)
	HiddenViewers bool          // watch-only participants get hidden tokens
	// JoinGap is a pause between one joiner's first frame and the next join. 0 joins
	// back to back, as an audience arriving at once does.
	JoinGap time.Duration
	// KeyframeEvery is the publishers' keyframe interval (default 2 s; a PLI also
	// forces one).
	KeyframeEvery time.Duration
	// OnWindow, if set, is called as the measurement window opens with the server's pid
	// and the window's length; the function it returns is called when the window closes.
	OnWindow func(pid int, window time.Duration) (end func())
	Logger   *slog.Logger
}

func (c *RunConfig) defaults() {
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup <= 0 {
		c.Warmup = 2 * time.Second
	}
	if c.FirstFrameMax <= 0 {
		c.FirstFrameMax = 10 * time.Second
	}
	if c.KeyframeEvery <= 0 {
		c.KeyframeEvery = video.KeyframeEvery
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Video shape of issue 2: ~1.5 Mbit/s VP8 at 30 fps, a keyframe every 2 s and on PLI.
var video = lktest.VideoOptions{BitrateKbps: 1500, FPS: 30, KeyframeEvery: 2 * time.Second}

// participant is one connected client of a scenario.
type participant struct {
	identity  string
	client    *lktest.Client
	pubs      []*lktest.Publication
	subscribe bool
}

// run holds the state of one scenario run; its methods run on the caller's goroutine.
type run struct {
	sc     Scenario
	cfg    RunConfig
	joiner Joiner
	srv    *Server
	log    *slog.Logger
	room   string
	parts  []*participant
	joins  []time.Duration // join-to-first-frame samples
	keys   []time.Duration // join-to-first-keyframe samples
	miss   int             // first frames that never came
	mu     sync.Mutex      // guards parts, joins, keys and miss during a join storm (lecture.go)
	signal signalPerJoin   // lecture scenarios
}

// Run drives scenario sc against srv (a fresh server, nobody connected) and measures it.
// Every client is disconnected before it returns.
func Run(ctx context.Context, srv *Server, sc Scenario, cfg RunConfig) (Result, error) {
	cfg.defaults()
	if sc.Lecture {
		return runLecture(ctx, srv, sc, cfg) // lean viewers (lecturerun.go)
	}
	r := &run{sc: sc, cfg: cfg, srv: srv, room: "bench-" + sc.Name, log: cfg.Logger.With("scenario", sc.Name)}
	defer r.closeAll()
	res := Result{Scenario: sc.Name, Publishers: sc.Publishers, Subscribers: sc.SubscriberCount(), ServerPinned: srv.Pinned}
	idle, err := srv.RSS()
	if err != nil {
		return res, err
	}
	var session *sessionJoiner
	r.joiner = devJoiner{room: r.room, key: srv.APIKey, secret: srv.Secret}
	if sc.Lecture {
		if r.joiner, err = newLectureJoiner(ctx, srv); err != nil {
			return res, fmt.Errorf("lecture: %w", err)
		}
	} else if sc.Mediated || sc.Record {
		if session, err = newSessionJoiner(ctx, srv, sc.Record); err != nil {
			return res, fmt.Errorf("mediation session: %w", err)
		}
		r.joiner = session
	}
	if err := r.connectAll(ctx); err != nil {
		return res, err
	}
	if sc.Record {
		var st recordingState
		lktest.Eventually(10*time.Second, func() bool {
			st, err = session.recording(ctx)
			return err != nil || st.Active
		})
		if err != nil {
			return res, err
		}
		if !st.Active {
			return res, fmt.Errorf("recording did not start: %+v", st)
		}
	}
	if err := sleep(ctx, cfg.Warmup); err != nil {
		return res, err
	}

	r.takeLatencies() // drop warm-up samples
	res.HostLoad1 = loadavg1()
	r.alignToFrame()
	a, err := r.snapshot()
	if err != nil {
		return res, err
	}
	fwdLat := r.forwardLatency(ctx) // yizhan's own view of what it adds (serverlatency.go)
	dataDir := filepath.Join(srv.Dir, "data")
	disk0 := dirSize(dataDir)
	end := func() {}
	if cfg.OnWindow != nil {
		end = cfg.OnWindow(srv.PID, cfg.Duration)
	}
	stopCount, cerr := syscallCounter(srv.PID)
	if cerr != nil {
		r.log.Warn("no syscall counts", "err", cerr)
	}
	err = sleep(ctx, cfg.Duration)
	r.alignToFrame()
	b, serr := r.snapshot()
	fwdLat(&res)
	var calls Syscalls
	if stopCount != nil {
		if calls, cerr = stopCount(); cerr != nil {
			r.log.Warn("no syscall counts", "err", cerr)
		}
	}
	end()
	if err != nil {
		return res, err
	}
	if serr != nil {
		return res, serr
	}
	disk1 := dirSize(dataDir)
	r.logTracks(a, b)
	lat := r.takeLatencies()
	rss, err := srv.RSS()
	if err != nil {
		return res, err
	}
	if !srv.Alive() {
		return res, errors.New("server exited during the run")
	}
	if sc.Record {
		st, err := session.recording(ctx)
		if err != nil {
			return res, err
		}
		if !st.Active || !st.Healthy {
			return res, fmt.Errorf("recording not active and healthy after the window: %+v", st)
		}
		res.Recording = true
	}

	win := b.at.Sub(a.at).Seconds()
	recv := float64(b.recv - a.recv)
	exp := float64(b.expected - a.expected)
	cpu := (b.serverCPU - a.serverCPU).Seconds()
	res.DurationS = round(win, 2)
	res.ForwardedPPS = round(recv/win, 1)
	res.ExpectedPPS = round(exp/win, 1)
	if exp > 0 {
		res.Loss = round(1-recv/exp, 5)
	}
	if recv > 0 {
		res.ServerCPUUsPerPacket = round(cpu*1e6/recv, 2)
	}
	res.ServerCPUCores = round(cpu/win, 3)
	if recv > 0 && calls.All > 0 {
		res.ServerSyscallsPerPacket = round(float64(calls.All)/recv, 3)
		res.ServerSendCallsPerPacket = round(float64(calls.Sends)/recv, 3)
		res.ServerRecvCallsPerPacket = round(float64(calls.Recvs)/recv, 3)
	}
	res.ServerCtxSwitchesPerS = round(float64(b.serverCS-a.serverCS)/win, 0)
	res.ClientCPUCores = round((b.selfCPU-a.selfCPU).Seconds()/win, 3)
	slices.Sort(lat)
	res.LatencySamples = len(lat)
	res.LatencyUsP50 = sortedPercentile(lat, 50)
	res.LatencyUsP99 = sortedPercentile(lat, 99)
	if len(lat) > 0 {
		res.LatencyUsMax = lat[len(lat)-1]
	}
	joins := make([]int64, len(r.joins))
	for i, d := range r.joins {
		joins[i] = d.Milliseconds()
	}
	slices.Sort(joins)
	res.JoinSamples = len(joins)
	res.JoinMissing = r.miss
	res.JoinGapMS = cfg.JoinGap.Milliseconds()
	res.JoinToFirstP50 = sortedPercentile(joins, 50)
	res.JoinToFirstP99 = sortedPercentile(joins, 99)
	keys := make([]int64, len(r.keys))
	for i, d := range r.keys {
		keys[i] = d.Milliseconds()
	}
	slices.Sort(keys)
	res.JoinToKeyframeP50 = sortedPercentile(keys, 50)
	res.JoinToKeyframeP99 = sortedPercentile(keys, 99)
	res.KeyframeEveryMS = cfg.KeyframeEvery.Milliseconds()
	res.RSSMB = round(float64(rss)/(1<<20), 1)
	res.IdleRSSMB = round(float64(idle)/(1<<20), 1)
	res.RSSPerPartKB = round(float64(rss-idle)/1024/float64(sc.Participants()), 1)
	res.DataDirKbps = round(float64(disk1-disk0)*8/1000/win, 1)
	res.SeqJumps = b.jumps - a.jumps
	res.SignalPerJoin = round(r.signal.perJoin, 2)
	res.RoomUpdatesPerJoin = round(r.signal.roomUpdatesPerJoin, 2)
	res.StormS = round(r.signal.stormS, 2)
	if sc.Lecture {
		res.RSSPerPartKB = round(r.signal.rssPerViewerKB, 1)
	}
	res.PLIs = b.plis - a.plis
	return res, nil
}

// forwardLatency scrapes yizhan's latency histograms as the window opens; the
// function it returns scrapes them again and puts the window's quantiles in res.
// Nothing for livekit-server, or when the scrape fails (logged).
func (r *run) forwardLatency(ctx context.Context) func(res *Result) {
	if r.srv.LiveKit {
		return func(*Result) {}
	}
	addr, err := metricsListener(r.srv.LogPath)
	var before map[string]latencyBuckets
	var udpBefore map[string]float64
	if err == nil {
		before, err = scrapeLatencies(ctx, addr)
		udpBefore, _ = scrapeCounters(ctx, addr, udpCounterNames) // udpcounters.go
	}
	if err != nil {
		r.log.Warn("no server latency histograms", "err", err)
		return func(*Result) {}
	}
	return func(res *Result) {
		if udpAfter, err := scrapeCounters(ctx, addr, udpCounterNames); err == nil && udpBefore != nil {
			udpBatching(res, udpBefore, udpAfter)
		}
		after, err := scrapeLatencies(ctx, addr)
		if err != nil {
			r.log.Warn("no server latency histograms", "err", err)
			return
		}
		if d := after[addedLatencyMetric].since(before[addedLatencyMetric]); d.count > 0 {
			res.ServerAddedSamples = int64(d.count)
			res.ServerAddedP50Us = round(d.quantileUs(0.50), 1)
			res.ServerAddedP99Us = round(d.quantileUs(0.99), 1)
			res.ServerAddedP999Us = round(d.quantileUs(0.999), 1)
			res.ServerAddedMeanUs = round(d.sum/d.count*1e6, 1)
		}
		if d := after[fwdLatencyMetric].since(before[fwdLatencyMetric]); d.count > 0 {
			res.ServerFwdSamples = int64(d.count)
			res.ServerFwdP50Us = round(d.quantileUs(0.50), 1)
			res.ServerFwdP99Us = round(d.quantileUs(0.99), 1)
		}
	}
}

// connectAll joins the publishers, then the watchers, one at a time; each joiner's
// time to the first video packet of every publisher already sending is a sample.
func (r *run) connectAll(ctx context.Context) error {
	var sending []string // identities of publishers already sending video
	for i := range r.sc.Publishers {
		p := &participant{identity: fmt.Sprintf("pub-%d", i), subscribe: r.sc.Meeting}
		start := time.Now()
		if err := r.connect(ctx, p, true, false); err != nil {
			return err
		}
		vo := video
		vo.KeyframeEvery = r.cfg.KeyframeEvery
		vp, err := p.client.PublishVP8(vo)
		if err != nil {
			return fmt.Errorf("%s: %w", p.identity, err)
		}
		p.pubs = append(p.pubs, vp)
		if r.sc.Audio {
			ap, err := p.client.PublishOpus("")
			if err != nil {
				return fmt.Errorf("%s: %w", p.identity, err)
			}
			p.pubs = append(p.pubs, ap)
		}
		if p.subscribe && len(sending) > 0 {
			r.firstFrames(ctx, p, start, sending)
		}
		if !lktest.Eventually(5*time.Second, func() bool { return vp.Sent.Load() > 0 }) {
			return fmt.Errorf("%s: nothing sent", p.identity)
		}
		sending = append(sending, p.identity)
		if err := sleep(ctx, r.cfg.JoinGap); err != nil {
			return err
		}
	}
	if r.sc.Meeting {
		return r.waitFlowing(ctx)
	}
	// Give the server a moment to have every up track before the first watcher.
	if err := sleep(ctx, 300*time.Millisecond); err != nil {
		return err
	}
	for i := range r.sc.Subscribers {
		p := &participant{identity: fmt.Sprintf("sub-%03d", i), subscribe: true}
		start := time.Now()
		if err := r.connect(ctx, p, false, r.cfg.HiddenViewers); err != nil {
			return err
		}
		r.firstFrames(ctx, p, start, sending)
		if err := sleep(ctx, r.cfg.JoinGap); err != nil {
			return err
		}
	}
	return r.waitFlowing(ctx)
}

// connect joins p; p.identity is a label until then, the server's identity after.
func (r *run) connect(ctx context.Context, p *participant, publish, hidden bool) error {
	tok, err := r.joiner.Token(ctx, p.identity, publish, p.subscribe, hidden)
	if err != nil {
		return fmt.Errorf("%s: token: %w", p.identity, err)
	}
	c, err := lktest.Connect(r.srv.URL, tok)
	if err != nil {
		return fmt.Errorf("%s: %w", p.identity, err)
	}
	p.client = c
	p.identity = c.Identity
	r.mu.Lock()
	r.parts = append(r.parts, p)
	r.mu.Unlock()
	if err := r.joiner.Joined(ctx, p.identity); err != nil {
		return fmt.Errorf("%s: joined: %w", p.identity, err)
	}
	return nil
}

// firstFrames waits until p has received a video keyframe from each of from, recording
// the time since start to the first video packet and to the first keyframe packet of
// each (stamped by the client as it reads them; the poll every millisecond only tells
// when to stop waiting).
func (r *run) firstFrames(ctx context.Context, p *participant, start time.Time, from []string) {
	pending := map[string]bool{}
	for _, id := range from {
		pending[id] = true
	}
	connected := time.Since(start)
	var subscribed time.Duration // first time a pending video track appeared
	deadline := start.Add(r.cfg.FirstFrameMax)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for len(pending) > 0 {
		now := time.Now()
		for _, t := range p.client.Tracks() {
			if t.Kind != "video" || !pending[t.Participant] {
				continue
			}
			if subscribed == 0 {
				subscribed = now.Sub(start)
			}
			// The client stamps its first packet and first keyframe as it reads
			// them; a keyframe is waited for too (at most FirstFrameMax).
			first, key := t.FirstPacket(), t.FirstKeyframe()
			if !first.IsZero() && !key.IsZero() {
				r.mu.Lock()
				r.joins = append(r.joins, first.Sub(start))
				r.keys = append(r.keys, key.Sub(start))
				r.mu.Unlock()
				if pl, _ := t.FirstPayloads(); len(pl) > 0 {
					r.log.Debug("first video payloads", "participant", p.identity, "n", len(pl), "first_len", len(pl[0]), "head", fmt.Sprintf("%x", pl[0][:min(len(pl[0]), 16)]))
				}
				delete(pending, t.Participant)
			}
		}
		if len(pending) == 0 {
			r.log.Debug("first frames", "participant", p.identity, "connected", connected,
				"subscribed", subscribed, "first_frame", now.Sub(start))
			return
		}
		if now.After(deadline) || ctx.Err() != nil {
			r.mu.Lock()
			r.miss += len(pending)
			r.mu.Unlock()
			r.log.Warn("first frame missing", "participant", p.identity, "from", len(pending))
			return
		}
		<-tick.C
	}
}

// waitFlowing waits until every subscriber receives every published track.
func (r *run) waitFlowing(ctx context.Context) error {
	want := r.sc.Publishers
	if r.sc.Audio {
		want *= 2
	}
	if r.sc.Meeting {
		want -= 1 + b2i(r.sc.Audio)
	}
	ok := lktest.Eventually(10*time.Second, func() bool {
		if ctx.Err() != nil {
			return true
		}
		for _, p := range r.parts {
			if !p.subscribe {
				continue
			}
			n := 0
			for _, t := range p.client.Tracks() {
				if t.Packets.Load() > 0 {
					n++
				}
			}
			if n < want {
				return false
			}
		}
		return true
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if !ok {
		r.log.Warn("not every subscriber receives every track; measuring anyway")
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// alignToFrame waits until the first publisher has just sent a frame and its packets
// had 12 ms (of the 33 ms between frames) to reach every subscriber, so that a snapshot does not cut a frame's burst of
// packets in two (which would show as loss, or negative loss, at the window's edges).
func (r *run) alignToFrame() {
	for _, p := range r.parts {
		if len(p.pubs) == 0 {
			continue
		}
		f := p.pubs[0].Frames.Load()
		for deadline := time.Now().Add(100 * time.Millisecond); p.pubs[0].Frames.Load() == f && time.Now().Before(deadline); {
			time.Sleep(500 * time.Microsecond)
		}
		time.Sleep(12 * time.Millisecond)
		return
	}
}

// counters is a snapshot of everything summed at one instant.
type counters struct {
	perTrack map[string]int64 // receiver/publisher/kind -> packets received
	perPub   map[string]int64 // publisher/kind -> packets sent
	procCounters
	expected int64 // Σ packets sent x receivers of that track
	recv     int64 // Σ packets received by subscribers
	jumps    int64
	plis     int64
}

func (r *run) snapshot() (counters, error) {
	var c counters
	var err error
	if c.procCounters, err = readProcCounters(r.srv); err != nil {
		return c, err
	}
	recvers := int64(r.sc.Receivers())
	c.perTrack, c.perPub = map[string]int64{}, map[string]int64{}
	for _, p := range r.parts {
		for i, pub := range p.pubs {
			n := pub.Sent.Load()
			c.expected += n * recvers
			c.plis += pub.PLIs.Load()
			c.perPub[fmt.Sprintf("%s/%d", p.identity, i)] = n
		}
		if p.subscribe {
			for _, t := range p.client.Tracks() {
				n := t.Packets.Load()
				c.recv += n
				c.jumps += t.SeqJumps.Load()
				c.perTrack[p.identity+"<"+t.Participant+"/"+t.Kind] = n
			}
		}
	}
	return c, nil
}

// logTracks logs per-track counts over the window at debug level (finding where loss is).
func (r *run) logTracks(a, b counters) {
	if !r.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	for k, n := range b.perPub {
		r.log.Debug("sent", "track", k, "packets", n-a.perPub[k])
	}
	for k, n := range b.perTrack {
		r.log.Debug("received", "track", k, "packets", n-a.perTrack[k])
	}
}

func (r *run) takeLatencies() []int64 {
	var out []int64
	debug := r.log.Enabled(context.Background(), slog.LevelDebug)
	for _, p := range r.parts {
		if !p.subscribe {
			continue
		}
		n := len(out)
		for _, t := range p.client.Tracks() {
			out = append(out, t.TakeLatencies()...)
		}
		if debug && len(out) > n {
			mine := slices.Clone(out[n:])
			slices.Sort(mine)
			r.log.Debug("latency", "participant", p.identity, "p50_us", sortedPercentile(mine, 50), "p99_us", sortedPercentile(mine, 99))
		}
	}
	return out
}

// closeAll disconnects every client, a few at a time, each bounded to 5 s.
func (r *run) closeAll() {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, p := range r.parts {
		sem <- struct{}{}
		wg.Add(1)
		go func() { // ends when the client closed or after 5 s
			defer wg.Done()
			defer func() { <-sem }()
			done := make(chan struct{})
			go func() { p.client.Close(); close(done) }() // may outlive us if the SDK hangs
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				r.log.Warn("client close timed out", "participant", p.identity)
			}
		}()
	}
	wg.Wait()
	r.parts = nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// loadavg1 is the host's 1-minute load average (other work on a shared machine skews
// latency; the CPU time per packet much less).
func loadavg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	x, _ := strconv.ParseFloat(f[0], 64)
	return x
}
