package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"yizhan/internal/lktest"
)

// viewersPerAddr is how many lean viewers share one loopback source address
// (127.0.0.2, .3, ...): the server caps signal connections per client address (64 by
// default), as it should for real clients; an audience comes from many addresses.
const viewersPerAddr = 32

// lectureRun is one lecture1xN run: an SDK speaker and N lean viewers (lktest.Viewer:
// one plain peer connection each, no interceptors), so that the load generator's core
// keeps up with hundreds of viewers and what is measured is the server.
type lectureRun struct {
	sc      Scenario
	cfg     RunConfig
	srv     *Server
	joiner  *lectureJoiner
	speaker *lktest.Client
	pubs    []*lktest.Publication // the speaker's low layer and audio: what viewers get

	mu      sync.Mutex // guards viewers, joins, miss, errs during the storm
	viewers []*lktest.Viewer
	joins   []time.Duration // public join request to the first video packet
	miss    int
	errs    []error
}

// runLecture is Run for lecture scenarios.
func runLecture(ctx context.Context, srv *Server, sc Scenario, cfg RunConfig) (Result, error) {
	res := Result{Scenario: sc.Name, Publishers: 1, Subscribers: sc.Subscribers, ServerPinned: srv.Pinned}
	log := cfg.Logger.With("scenario", sc.Name)
	idle, err := srv.RSS()
	if err != nil {
		return res, err
	}
	lr := &lectureRun{sc: sc, cfg: cfg, srv: srv}
	defer lr.closeAll()
	if lr.joiner, err = newLectureJoiner(ctx, srv); err != nil {
		return res, fmt.Errorf("lecture: %w", err)
	}
	if err := lr.publishSpeaker(ctx); err != nil {
		return res, err
	}
	metricsAddr, err := metricsListener(srv.LogPath)
	if err != nil {
		return res, err
	}
	before, err := scrapeSignal(ctx, metricsAddr)
	if err != nil {
		return res, fmt.Errorf("signal counts (does the server serve /metrics?): %w", err)
	}
	rss0, err := srv.RSS()
	if err != nil {
		return res, err
	}
	cpu0, err := srv.CPU()
	if err != nil {
		return res, err
	}
	self0, _ := ProcCPU(0)
	plis0 := lr.speakerPLIs()
	storm, err := lr.storm(ctx)
	if err != nil {
		return res, err
	}
	cpu1, _ := srv.CPU()
	self1, _ := ProcCPU(0)
	res.StormPLIs = lr.speakerPLIs() - plis0
	if err := lr.waitFlowing(ctx); err != nil {
		return res, err
	}
	// Offers answered, the count reported (once a second): then count.
	if err := sleep(ctx, 2*time.Second); err != nil {
		return res, err
	}
	after, err := scrapeSignal(ctx, metricsAddr)
	if err != nil {
		return res, err
	}
	rss1, err := srv.RSS()
	if err != nil {
		return res, err
	}
	n := float64(sc.Subscribers)
	res.SignalPerJoin = round((after["other"]-before["other"])/n, 2)
	res.RoomUpdatesPerJoin = round((after["room_update"]-before["room_update"])/n, 2)
	res.StormS = round(storm.Seconds(), 2)
	res.RSSPerPartKB = round(float64(rss1-rss0)/1024/n, 1)
	log.Info("join storm", "viewers", sc.Subscribers, "took", storm.Round(time.Millisecond),
		"server_cpu_s", round((cpu1-cpu0).Seconds(), 2), "client_cpu_s", round((self1-self0).Seconds(), 2),
		"signal_per_join", res.SignalPerJoin, "room_updates", after["room_update"]-before["room_update"],
		"pongs", after["pong"]-before["pong"], "link_reports", after["link"]-before["link"])

	if err := sleep(ctx, cfg.Warmup); err != nil {
		return res, err
	}
	lr.takeLatencies()
	res.HostLoad1 = loadavg1()
	lr.alignToFrame()
	a, err := lr.snapshot()
	if err != nil {
		return res, err
	}
	end := func() {}
	if cfg.OnWindow != nil {
		end = cfg.OnWindow(srv.PID, cfg.Duration)
	}
	err = sleep(ctx, cfg.Duration)
	lr.alignToFrame()
	b, serr := lr.snapshot()
	end()
	if err != nil {
		return res, err
	}
	if serr != nil {
		return res, serr
	}
	if !srv.Alive() {
		return res, fmt.Errorf("server exited during the run")
	}
	rss, err := srv.RSS()
	if err != nil {
		return res, err
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
	if seqExp := float64(b.seqExpected - a.seqExpected); seqExp > 0 {
		res.SeqLoss = round(1-recv/seqExp, 5)
	}
	if recv > 0 {
		res.ServerCPUUsPerPacket = round(cpu*1e6/recv, 2)
	}
	res.ServerCPUCores = round(cpu/win, 3)
	res.ServerCtxSwitchesPerS = round(float64(b.serverCS-a.serverCS)/win, 0)
	res.ClientCPUCores = round((b.selfCPU-a.selfCPU).Seconds()/win, 3)
	lat := lr.takeLatencies()
	slices.Sort(lat)
	res.LatencySamples = len(lat)
	res.LatencyUsP50 = sortedPercentile(lat, 50)
	res.LatencyUsP99 = sortedPercentile(lat, 99)
	if len(lat) > 0 {
		res.LatencyUsMax = lat[len(lat)-1]
	}
	joins := make([]int64, len(lr.joins))
	for i, d := range lr.joins {
		joins[i] = d.Milliseconds()
	}
	slices.Sort(joins)
	res.JoinSamples = len(joins)
	res.JoinMissing = lr.miss
	res.JoinToFirstP50 = sortedPercentile(joins, 50)
	res.JoinToFirstP99 = sortedPercentile(joins, 99)
	res.RSSMB = round(float64(rss)/(1<<20), 1)
	res.IdleRSSMB = round(float64(idle)/(1<<20), 1)
	res.SeqJumps = (b.seqExpected - a.seqExpected) - (b.recv - a.recv)
	res.PLIs = b.plis - a.plis
	return res, nil
}

// publishSpeaker connects the speaker (an SDK client: one publisher is no load) with
// 720p simulcast and Opus.
func (lr *lectureRun) publishSpeaker(ctx context.Context) error {
	tok, err := lr.joiner.Token(ctx, "speaker", true, false, false)
	if err != nil {
		return fmt.Errorf("speaker: token: %w", err)
	}
	if lr.speaker, err = lktest.Connect(lr.srv.URL, tok); err != nil {
		return fmt.Errorf("speaker: %w", err)
	}
	sim, err := lr.speaker.PublishSimulcastVP8("camera", lectureLayers)
	if err != nil {
		return fmt.Errorf("speaker: %w", err)
	}
	ap, err := lr.speaker.PublishOpus("")
	if err != nil {
		return fmt.Errorf("speaker: %w", err)
	}
	lr.pubs = []*lktest.Publication{sim.Layers[0], ap}
	if !lktest.Eventually(5*time.Second, func() bool { return sim.Layers[0].Sent.Load() > 0 }) {
		return fmt.Errorf("speaker: nothing sent")
	}
	return sleep(ctx, 500*time.Millisecond)
}

// storm lets the viewers arrive: viewer i starts at i x StormWindow/N whatever the
// others are doing; it returns when every viewer has its first video packet or gave
// up, with the time from the first join.
func (lr *lectureRun) storm(ctx context.Context) (time.Duration, error) {
	kit, err := lktest.NewViewerKit()
	if err != nil {
		return 0, err
	}
	n := lr.sc.Subscribers
	gap := StormWindow / time.Duration(n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { // one viewer's join; ends at its first frame or when it gave up
			defer wg.Done()
			if sleep(ctx, time.Duration(i)*gap) != nil {
				return
			}
			ip := fmt.Sprintf("127.0.0.%d", 2+i/viewersPerAddr)
			if err := lr.joinOne(ctx, kit, fmt.Sprintf("viewer-%04d", i), ip); err != nil {
				lr.mu.Lock()
				lr.errs = append(lr.errs, err)
				lr.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if len(lr.errs) > 0 {
		return took, fmt.Errorf("join storm: %d of %d viewers failed, e.g. %w", len(lr.errs), n, lr.errs[0])
	}
	return took, nil
}

func (lr *lectureRun) joinOne(ctx context.Context, kit *lktest.ViewerKit, name, ip string) error {
	t0 := time.Now()
	tok, err := publicJoin(ctx, lr.srv.HTTP, lr.joiner.id, name, ip)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	v, err := kit.Join(ctx, lr.srv.URL, tok, lktest.ViewerOptions{LocalIP: ip})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	lr.mu.Lock()
	lr.viewers = append(lr.viewers, v)
	lr.mu.Unlock()
	t := time.NewTimer(lr.cfg.FirstFrameMax - time.Since(t0))
	defer t.Stop()
	select {
	case <-v.FirstVideoC():
		lr.mu.Lock()
		lr.joins = append(lr.joins, v.FirstVideo().Sub(t0))
		lr.mu.Unlock()
	case <-t.C:
		lr.mu.Lock()
		lr.miss++
		lr.mu.Unlock()
		lr.cfg.Logger.Warn("first frame missing", "viewer", v.Identity, "signal_err", v.Err())
	case <-ctx.Done():
	}
	return nil
}

// publicJoin asks for a viewer's token as the public lecture page does, from ip.
func publicJoin(ctx context.Context, hostport string, lecture int64, name, ip string) (string, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	body := fmt.Sprintf(`{"name":%q,"centre":"east-v"}`, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://%s/api/public/lectures/%d/join", hostport, lecture), strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var join struct{ Token, HLS, Error string }
	if err := json.NewDecoder(resp.Body).Decode(&join); err != nil {
		return "", fmt.Errorf("public join: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("public join: %s: %s", resp.Status, join.Error)
	}
	if join.Token == "" {
		return "", fmt.Errorf("no WebRTC seat (got the HLS stream %q)", join.HLS)
	}
	return join.Token, nil
}

// waitFlowing waits until every viewer receives both the speaker's tracks.
func (lr *lectureRun) waitFlowing(ctx context.Context) error {
	ok := lktest.Eventually(10*time.Second, func() bool {
		if ctx.Err() != nil {
			return true
		}
		for _, v := range lr.viewers {
			n := 0
			for _, t := range v.Tracks() {
				if t.Packets.Load() > 0 {
					n++
				}
			}
			if n < len(lr.pubs) {
				return false
			}
		}
		return true
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if !ok {
		lr.cfg.Logger.Warn("not every viewer receives both tracks; measuring anyway")
	}
	return nil
}

// alignToFrame: see run.alignToFrame.
func (lr *lectureRun) alignToFrame() {
	f := lr.pubs[0].Frames.Load()
	for deadline := time.Now().Add(200 * time.Millisecond); lr.pubs[0].Frames.Load() == f && time.Now().Before(deadline); {
		time.Sleep(500 * time.Microsecond)
	}
	time.Sleep(12 * time.Millisecond)
}

// speakerPLIs is how many keyframe requests the speaker's tracks got so far.
func (lr *lectureRun) speakerPLIs() int64 {
	var n int64
	for _, p := range lr.pubs {
		n += p.PLIs.Load()
	}
	return n
}

type lectureCounters struct {
	procCounters
	expected, seqExpected, recv int64 // from the publisher's counts x viewers; from sequence numbers; received
	plis                        int64
}

func (lr *lectureRun) snapshot() (lectureCounters, error) {
	var c lectureCounters
	var err error
	if c.procCounters, err = readProcCounters(lr.srv); err != nil {
		return c, err
	}
	for _, p := range lr.pubs {
		c.expected += p.Sent.Load() * int64(len(lr.viewers))
		c.plis += p.PLIs.Load()
	}
	for _, v := range lr.viewers {
		for _, t := range v.Tracks() {
			c.recv += t.Packets.Load()
			c.seqExpected += t.MaxSeq.Load() + 1
		}
	}
	return c, nil
}

func (lr *lectureRun) takeLatencies() []int64 {
	var out []int64
	for _, v := range lr.viewers {
		for _, t := range v.Tracks() {
			out = append(out, t.TakeLatencies()...)
		}
	}
	return out
}

// closeAll disconnects the viewers, a few at a time, then the speaker.
func (lr *lectureRun) closeAll() {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, v := range lr.viewers {
		sem <- struct{}{}
		wg.Add(1)
		go func() { // ends when the viewer closed
			defer wg.Done()
			defer func() { <-sem }()
			v.Close()
		}()
	}
	wg.Wait()
	lr.viewers = nil
	if lr.speaker != nil {
		lr.speaker.Close()
	}
}

// metricsListener finds the address of the server's /metrics listener in its log
// ("metrics listening" addr=...): StartServer gives servers --metrics-addr
// 127.0.0.1:0. A server that logs none serves /metrics on its HTTP port.
func metricsListener(logPath string) (string, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `msg="metrics listening"`) {
			continue
		}
		if _, addr, ok := strings.Cut(line, " addr="); ok {
			return strings.Fields(addr)[0], nil
		}
	}
	return "", fmt.Errorf("%s: no \"metrics listening\" line (start the server with --metrics-addr)", logPath)
}
