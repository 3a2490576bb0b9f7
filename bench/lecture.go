package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"sync"
	"time"

	"yizhan/internal/lktest"
)

// StormWindow is how long the audience of a lecture scenario takes to arrive: N viewers
// join at even intervals within it, without waiting for each other.
const StormWindow = 10 * time.Second

// Simulcast of the lecture speaker (kbps of q, h, f): 720p at the top.
var lectureLayers = [3]int{150, 500, 1500}

// signalPerJoin is what the server sent while the audience arrived.
type signalPerJoin struct {
	perJoin, roomUpdatesPerJoin, stormS float64
	rssPerViewerKB                      float64 // server RSS growth over the storm / viewers
}

// connectLecture publishes the speaker, then lets the viewers arrive in a storm: viewer
// i starts joining at i x StormWindow/N whatever the others are doing. Each viewer's
// time from its join to the speaker's first video packet is a sample.
func (r *run) connectLecture(ctx context.Context) error {
	spk := &participant{identity: "speaker"}
	if err := r.connect(ctx, spk, true, false); err != nil {
		return err
	}
	sim, err := spk.client.PublishSimulcastVP8("camera", lectureLayers)
	if err != nil {
		return fmt.Errorf("speaker: %w", err)
	}
	ap, err := spk.client.PublishOpus("")
	if err != nil {
		return fmt.Errorf("speaker: %w", err)
	}
	// Viewers get the low layer: it and the sound are what they should receive.
	spk.pubs = []*lktest.Publication{sim.Layers[0], ap}
	if !lktest.Eventually(5*time.Second, func() bool { return sim.Layers[0].Sent.Load() > 0 }) {
		return fmt.Errorf("speaker: nothing sent")
	}
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	before, err := scrapeSignal(ctx, r.srv.Metrics)
	if err != nil {
		return fmt.Errorf("signal counts (does the server serve /metrics?): %w", err)
	}
	rss0, err := r.srv.RSS()
	if err != nil {
		return err
	}
	n := r.sc.Subscribers
	gap := StormWindow / time.Duration(n)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() { // one viewer; ends once it has its first frame or gave up
			defer wg.Done()
			if err := sleep(ctx, time.Duration(i)*gap); err != nil {
				return
			}
			p := &participant{identity: fmt.Sprintf("viewer-%04d", i), subscribe: true}
			t0 := time.Now()
			if err := r.connect(ctx, p, false, true); err != nil {
				errs <- err
				return
			}
			r.firstFrames(ctx, p, t0, []string{spk.identity})
		}()
	}
	wg.Wait()
	storm := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("join storm: %w (and %d more)", err, len(errs))
	}
	if err := r.waitFlowing(ctx); err != nil {
		return err
	}
	// Offers answered, the count reported (once a second): then count.
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	after, err := scrapeSignal(ctx, r.srv.Metrics)
	if err != nil {
		return err
	}
	rss1, err := r.srv.RSS()
	if err != nil {
		return err
	}
	r.signal = signalPerJoin{
		rssPerViewerKB:     float64(rss1-rss0) / 1024 / float64(n),
		perJoin:            (after["other"] - before["other"]) / float64(n),
		roomUpdatesPerJoin: (after["room_update"] - before["room_update"]) / float64(n),
		stormS:             storm.Seconds(),
	}
	r.log.Info("join storm", "viewers", n, "took", storm.Round(time.Millisecond),
		"signal_per_join", round(r.signal.perJoin, 2), "room_updates", after["room_update"]-before["room_update"], "pongs", after["pong"]-before["pong"],
		"link_reports", after["link"]-before["link"])
	return nil
}

// scrapeSignal reads yizhan_signal_messages_sent_total by kind from the server's /metrics.
func scrapeSignal(ctx context.Context, hostport string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	const prefix = `yizhan_signal_messages_sent_total{kind="`
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		kind, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[kind] = v
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("/metrics has no %s...", prefix)
	}
	return out, sc.Err()
}

// lectureJoiner joins through the lecture API of a `serve --dev` server, as the web app
// does: the demo mediator creates and starts a lecture and joins it as its speaker;
// viewers join from the public API with hidden, subscribe-only tokens.
type lectureJoiner struct {
	api *sessionJoiner // the logged-in HTTP client
	id  int64
}

func newLectureJoiner(ctx context.Context, srv *Server) (*lectureJoiner, error) {
	pw, err := demoPassword(srv.LogPath, demoUser)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	api := &sessionJoiner{base: "http://" + srv.HTTP, http: &http.Client{Jar: jar, Timeout: 15 * time.Second}}
	if err := api.call(ctx, "POST", "/api/login", map[string]string{"username": demoUser, "password": pw}, nil); err != nil {
		return nil, err
	}
	var l struct{ ID int64 }
	if err := api.call(ctx, "POST", "/api/lectures", map[string]any{"title": "sfubench", "scheduled_at": time.Now().Format(time.RFC3339),
		"speakers": []string{demoUser}}, &l); err != nil {
		return nil, err
	}
	if err := api.call(ctx, "POST", fmt.Sprintf("/api/lectures/%d/start", l.ID), nil, nil); err != nil {
		return nil, err
	}
	return &lectureJoiner{api: api, id: l.ID}, nil
}

func (j *lectureJoiner) Token(ctx context.Context, name string, publish, _, _ bool) (string, error) {
	var join struct{ Token, HLS string }
	if publish {
		err := j.api.call(ctx, "POST", fmt.Sprintf("/api/lectures/%d/join", j.id), map[string]any{}, &join)
		return join.Token, err
	}
	// Viewers have no account: a client without the staff cookie.
	anon := &sessionJoiner{base: j.api.base, http: &http.Client{Timeout: 15 * time.Second}}
	err := anon.call(ctx, "POST", fmt.Sprintf("/api/public/lectures/%d/join", j.id), map[string]any{"name": name, "centre": "east-v"}, &join)
	if err == nil && join.Token == "" {
		err = fmt.Errorf("no WebRTC seat (got the HLS stream %q)", join.HLS)
	}
	return join.Token, err
}

func (*lectureJoiner) Joined(context.Context, string) error { return nil }
