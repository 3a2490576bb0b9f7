package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"time"
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

// scrapeSignal reads yizhan_signal_messages_sent_total by kind from the server's /metrics.
func scrapeSignal(ctx context.Context, hostport string) (map[string]float64, error) {
	out := map[string]float64{}
	const prefix = `yizhan_signal_messages_sent_total{kind="`
	err := scrapeMetrics(ctx, hostport, func(line string) {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			return
		}
		kind, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			return
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[kind] = v
		}
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("/metrics has no %s...", prefix)
	}
	return out, nil
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
