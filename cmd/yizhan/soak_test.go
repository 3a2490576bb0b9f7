package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"yizhan/internal/lktest"
)

// TestSoak (`make soak`, issue 12): the built server runs 10 mediation rooms of 4
// participants (a mediator who stays, three parties who keep leaving and coming back)
// with recording on, for YIZHAN_SOAK (e.g. 10m). It prints goroutines, heap and RSS of
// the server process (from its own /metrics, after a forced GC) at the start and at the
// end, once every room has ended and closed, and fails if any is more than 10 % above
// the start. The start is measured after one warm-up room has come and gone, so that
// what the server builds once (pools, the SQLite cache, the first TLS and codec tables)
// is not counted as a leak.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("YIZHAN_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set YIZHAN_SOAK=10m (make soak) to run the soak")
	}
	const rooms, parties = 10, 3
	bin := buildBinary(t)
	srv := recStart(t, bin, t.TempDir())
	metricsURL := soakMetricsURL(t, srv)
	api := newRecAPI(t, srv.base)
	api.login("east-mediator", srv.passwords["east-mediator"])

	// The rooms: a case each, a recorded session, three party invitations.
	type room struct {
		sess  int64
		codes []string
	}
	newRoom := func(i int) room {
		var c struct {
			ID      int64 `json:"id"`
			Parties []struct {
				ID int64 `json:"id"`
			} `json:"parties"`
		}
		api.call("POST", "/api/cases", fmt.Sprintf(`{"title":"soak %d","category":"neighbours","risk":"blue","mediator":"east-mediator",
			"parties":[{"name":"甲%d","side":"applicant"},{"name":"乙%d","side":"respondent"}]}`, i, i, i), 201, &c)
		var se struct {
			ID int64 `json:"id"`
		}
		api.call("POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"soak","record_on_open":true}`, 201, &se)
		r := room{sess: se.ID}
		for j, body := range []string{
			fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[0].ID),
			fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[1].ID),
			`{"role":"agent","side":"applicant","name":"代理人"}`,
		}[:parties] {
			var inv struct {
				Code string `json:"code"`
			}
			api.call("POST", fmt.Sprintf("/api/sessions/%d/invitations", se.ID), body, 201, &inv)
			_ = j
			r.codes = append(r.codes, inv.Code)
		}
		return r
	}
	// run keeps a room busy until stop: the mediator stays, each party joins, talks for
	// 5-15 s, leaves and comes back 1-3 s later; the mediator's side admits who knocks.
	run := func(r room, stop <-chan struct{}) (joins int) {
		var med struct{ URL, Token, Identity string }
		api.call("POST", fmt.Sprintf("/api/sessions/%d/join", r.sess), ``, 200, &med)
		mc, err := lktest.Connect(med.URL, med.Token)
		if err != nil {
			t.Errorf("mediator: %v", err)
			return 0
		}
		defer mc.Close()
		if _, err := mc.PublishOpus(""); err != nil {
			t.Errorf("mediator publish: %v", err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wg.Add(1)
		go func() { // the host admits who knocks; ends on stop
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
				var live struct {
					Lobby []struct{ Identity string } `json:"lobby"`
				}
				if soakCall(api, "GET", fmt.Sprintf("/api/sessions/%d/live", r.sess), "", &live) != nil {
					continue
				}
				for _, p := range live.Lobby {
					_ = soakCall(api, "POST", fmt.Sprintf("/api/sessions/%d/admit", r.sess), `{"identity":"`+p.Identity+`"}`, nil)
				}
			}
		}()
		for _, code := range r.codes {
			wg.Add(1)
			go func() { // one party's comings and goings; ends on stop
				defer wg.Done()
				for {
					var j struct{ URL, Token string }
					if err := soakCall(api, "POST", "/api/join/"+code, `{"consent":true}`, &j); err == nil {
						if c, err := lktest.Connect(j.URL, j.Token); err == nil {
							mu.Lock()
							joins++
							mu.Unlock()
							_, _ = c.PublishOpus("")
							select {
							case <-stop:
								c.Close()
								return
							case <-time.After(time.Duration(5000+rand.IntN(10000)) * time.Millisecond):
							}
							c.Close()
						}
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Duration(1000+rand.IntN(2000)) * time.Millisecond):
					}
				}
			}()
		}
		wg.Wait()
		if err := soakCall(api, "POST", fmt.Sprintf("/api/sessions/%d/end", r.sess), `{}`, nil); err != nil {
			t.Errorf("end session %d: %v", r.sess, err)
		}
		return joins
	}
	settle := func(what string) soakFigures {
		recWait(t, "no room open "+what, func() bool { return scrapeMetrics(t, metricsURL)["yizhan_rooms"] == 0 })
		time.Sleep(30 * time.Second) // timers, the scavenger, closing sockets
		return soakMeasure(t, metricsURL)
	}

	// Cold: the server as started. Warm: after one pass at the full load (every room
	// live, briefly) has come and gone, so that what the server builds once and then
	// reuses (pools sized by the peak, the SQLite page cache, codec and TLS tables, the
	// runtime's own structures) is in both readings. A soak measures growth over time:
	// the 10 % bound is on the warm comparison; the cold one is printed too.
	cold := soakMeasure(t, metricsURL)
	warmFor := min(d/5, 40*time.Second)
	var warmRooms []room
	for i := range rooms {
		warmRooms = append(warmRooms, newRoom(100+i))
	}
	warmStop := make(chan struct{})
	var warmWG sync.WaitGroup
	for _, r := range warmRooms {
		warmWG.Add(1)
		go func() { defer warmWG.Done(); run(r, warmStop) }()
	}
	time.Sleep(warmFor)
	close(warmStop)
	warmWG.Wait()
	start := settle("after the warm-up")
	t.Logf("soak start: cold %s; after a %s warm-up at the full load %s", cold, warmFor, start)

	rs := make([]room, rooms)
	for i := range rs {
		rs[i] = newRoom(i + 1)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	joins := 0
	for _, r := range rs {
		wg.Add(1)
		go func() { defer wg.Done(); n := run(r, stop); mu.Lock(); joins += n; mu.Unlock() }()
	}
	time.Sleep(d / 2)
	mid := soakMeasureNoGC(t, metricsURL)
	soakKeepProfile(t, metricsURL, "goroutine-mid-*.txt", "/debug/pprof/goroutine?debug=1")
	t.Logf("soak middle (%d rooms live): %s, %.0f participants connected: %.1f goroutines each", rooms, mid, mid.participants,
		(mid.goroutines-start.goroutines)/max(mid.participants, 1))
	time.Sleep(d - d/2)
	close(stop)
	wg.Wait()
	end := settle("after the soak")
	t.Logf("soak end: %s, %d joins in %s", end, joins, d)
	fmt.Printf("SOAK %d rooms x %d participants, %s, %d party joins\n  cold start:   %s\n  start (warm): %s\n  middle:       %s (%.0f participants: %.1f goroutines each)\n  end:          %s\n",
		rooms, parties+1, d, joins, cold, start, mid, mid.participants, (mid.goroutines-start.goroutines)/max(mid.participants, 1), end)
	for _, c := range []struct {
		what             string
		cold, start, end float64
	}{
		{"goroutines", cold.goroutines, start.goroutines, end.goroutines},
		{"heap", cold.heap, start.heap, end.heap},
		{"RSS", cold.rss, start.rss, end.rss},
	} {
		fmt.Printf("  %-10s end vs warm start %+.1f %%, end vs cold start %+.1f %%\n", c.what, 100*(c.end/c.start-1), 100*(c.end/c.cold-1))
		if c.end > c.start*1.10 {
			t.Errorf("%s: %.0f at the (warm) start, %.0f at the end (+%.1f %%, bound 10 %%)", c.what, c.start, c.end, 100*(c.end/c.start-1))
		}
	}
}

type soakFigures struct{ goroutines, heap, rss, participants float64 }

func (f soakFigures) String() string {
	return fmt.Sprintf("goroutines %.0f, heap %.1f MB, RSS %.1f MB", f.goroutines, f.heap/1e6, f.rss/1e6)
}

// soakMeasure has the server collect its garbage and return free pages to the system
// (POST /debug/freeosmemory on the metrics listener), then reads its figures. With
// YIZHAN_SOAK_PROFILES=dir it keeps a heap profile of each reading, for go tool pprof -base.
func soakMeasure(t *testing.T, metricsURL string) soakFigures {
	t.Helper()
	base := strings.TrimSuffix(metricsURL, "/metrics")
	res, err := http.Post(base+"/debug/freeosmemory", "", nil)
	if err != nil {
		t.Fatalf("free the server's memory: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("free the server's memory: %s", res.Status)
	}
	// read first: writing a profile allocates (the more stacks the server has seen, the
	// more), and that garbage would count in the heap figure
	f := soakMeasureNoGC(t, metricsURL)
	soakKeepProfile(t, metricsURL, "heap-*.pb.gz", "/debug/pprof/heap")
	soakKeepProfile(t, metricsURL, "goroutine-*.txt", "/debug/pprof/goroutine?debug=2")
	return f
}

// soakKeepProfile saves a pprof profile of the server into YIZHAN_SOAK_PROFILES, if set.
func soakKeepProfile(t *testing.T, metricsURL, pattern, path string) {
	dir := os.Getenv("YIZHAN_SOAK_PROFILES")
	if dir == "" {
		return
	}
	res, err := http.Get(strings.TrimSuffix(metricsURL, "/metrics") + path)
	if err != nil {
		t.Logf("profile %s: %v", path, err)
		return
	}
	defer res.Body.Close()
	if f, err := os.CreateTemp(dir, pattern); err == nil {
		_, _ = io.Copy(f, res.Body)
		_ = f.Close()
		t.Logf("profile: %s", f.Name())
	}
}

func soakMeasureNoGC(t *testing.T, metricsURL string) soakFigures {
	m := scrapeMetrics(t, metricsURL)
	return soakFigures{goroutines: m["go_goroutines"], heap: m["go_memstats_heap_alloc_bytes"], rss: m["process_resident_memory_bytes"],
		participants: m["yizhan_participants"]}
}

var soakReMetrics = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)

// soakMetricsURL finds the metrics listener in what the server logged.
func soakMetricsURL(t *testing.T, srv *recServer) string {
	t.Helper()
	var addr string
	recWait(t, "the metrics listener", func() bool {
		sc := bufio.NewScanner(strings.NewReader(srv.stderr.String()))
		for sc.Scan() {
			if m := soakReMetrics.FindStringSubmatch(sc.Text()); m != nil {
				addr = m[1]
			}
		}
		return addr != ""
	})
	return "http://" + addr + "/metrics"
}

// soakCall is recAPI.call that reports failure instead of ending the test: under churn
// a join may meet a room that is closing.
func soakCall(a *recAPI, method, path, body string, out any) error {
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}
