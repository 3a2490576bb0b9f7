package hls

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// nginx starts a real nginx (Debian's) on loopback with proxy_cache in front of origin,
// as the example edge of the compose file does. It skips the test when nginx is missing.
func startNginx(t *testing.T, origin string) (base, accessLog string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Skip("nginx is not installed (Debian package nginx): the HLS cache test needs it")
		}
		bin = "/usr/sbin/nginx"
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	accessLog = filepath.Join(dir, "access.log")
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    log_format cache '$upstream_cache_status $status $request_uri';
    access_log %[3]s cache;
    proxy_cache_path %[2]s/cache levels=1:2 keys_zone=hls:10m max_size=1g inactive=10m use_temp_path=off;
    server {
        listen 127.0.0.1:%[4]d;
        location /live/ {
            proxy_pass %[5]s;
            proxy_cache hls;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 3s;
            proxy_cache_use_stale updating;
            proxy_cache_valid 404 1s;
            add_header X-Cache $upstream_cache_status;
        }
    }
}
`, user, dir, accessLog, port, origin)
	confPath := filepath.Join(dir, "nginx.conf")
	must(t, os.WriteFile(confPath, []byte(conf), 0o644))
	cmd := exec.Command(bin, "-p", dir, "-c", confPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return base, accessLog
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nginx did not start: %s", stderr.String())
	return "", ""
}

func get(t testing.TB, url string) (int, http.Header, []byte) {
	resp, err := http.Get(url)
	if err != nil {
		t.Logf("GET %s: %v", url, err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// segmentsOf lists the segment URIs of a playlist.
func segmentsOf(pl []byte) []string {
	var out []string
	for _, ln := range strings.Split(string(pl), "\n") {
		if segmentRE.MatchString(strings.TrimSpace(ln)) {
			out = append(out, strings.TrimSpace(ln))
		}
	}
	return out
}

// TestProgramThroughNginx: real VP8/Opus RTP in, ffmpeg makes H.264/AAC segments, our
// handler serves them behind a real nginx proxy_cache. It measures how long a change of
// picture at the source takes to be listed in the live playlist at the edge, and the
// cache's hit ratio with 50 HLS clients; the archive playlist ends and lists everything.
func TestProgramThroughNginx(t *testing.T) {
	src := newSource(t)
	root := t.TempDir()
	var originHits atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/live/", http.StripPrefix("/live", Handler(root)))
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		originHits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	defer origin.Close()
	edge, accessLog := startNginx(t, origin.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "L1")
	var restarted atomic.Int64
	p, err := Start(ctx, Config{Dir: dir, Width: 640, Height: 360, VideoKbps: 600, KeyframeNeeded: func() { restarted.Add(1) }}, []Input{{Video: true}, {}})
	must(t, err)
	feed, stopFeed := context.WithCancel(ctx)
	var fed sync.WaitGroup
	fed.Add(1)
	go func() { defer fed.Done(); src.run(feed, p.Writers()[0], p.Writers()[1]) }()
	defer func() { stopFeed(); fed.Wait(); _ = p.Stop() }()

	live := edge + "/live/L1/index.m3u8"
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _, b := get(t, live)
		if st == 200 && len(segmentsOf(b)) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "ffmpeg.log"))
			t.Fatalf("no live playlist with 3 segments after 30 s (last status %d)\nffmpeg: %s", st, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	st, h, b := get(t, live)
	if st != 200 || !strings.Contains(h.Get("Cache-Control"), "max-age=1") || h.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Fatalf("live playlist: %d %v", st, h)
	}
	segs := segmentsOf(b)
	if len(segs) > LiveSegments {
		t.Errorf("the live playlist lists %d segments, want at most %d", len(segs), LiveSegments)
	}
	st, h, seg := get(t, edge+"/live/L1/"+segs[0])
	if st != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") || len(seg) == 0 {
		t.Fatalf("segment: %d %v", st, h)
	}
	if st, _, _ := get(t, edge+"/live/L1/..%2fprogram.sdp"); st != 404 {
		t.Errorf("a path outside the segments: %d, want 404", st)
	}

	// Latency: the picture turns white at the source; when does the edge list a segment
	// showing it?
	t0 := src.Mark()
	seen := map[string]bool{}
	var avail time.Duration
	for avail == 0 && time.Since(t0) < 20*time.Second {
		_, _, b := get(t, live)
		for _, s := range segmentsOf(b) {
			if seen[s] {
				continue
			}
			seen[s] = true
			at := time.Since(t0)
			if _, _, body := get(t, edge+"/live/L1/"+s); whiteIn(t, body) {
				avail = at
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if avail == 0 {
		t.Fatal("the marker never appeared in a segment at the edge")
	}
	// A player holds back from the live edge; hls.js as configured in the web app plays
	// 2 target durations (2 s) behind the end of the playlist.
	t.Logf("HLS latency: source change -> segment listed at the edge %v; glass-to-glass with a 2 s player hold-back ≈ %v",
		avail.Round(10*time.Millisecond), (avail + time.Second).Round(10*time.Millisecond))

	// 50 clients, each polling the live playlist once a second and fetching new segments.
	before := originHits.Load()
	var clientReqs atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := map[string]bool{}
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			end := time.Now().Add(10 * time.Second)
			for time.Now().Before(end) {
				_, _, b := get(t, live)
				clientReqs.Add(1)
				ss := segmentsOf(b)
				if len(ss) > 3 && len(got) == 0 {
					ss = ss[len(ss)-3:] // start near the edge, like a player
				}
				for _, s := range ss {
					if !got[s] {
						got[s] = true
						get(t, edge+"/live/L1/"+s)
						clientReqs.Add(1)
					}
				}
				time.Sleep(time.Second)
			}
		}()
	}
	wg.Wait()
	upstream := originHits.Load() - before
	ratio := 1 - float64(upstream)/float64(clientReqs.Load())
	t.Logf("cache: 50 clients made %d requests in 10 s, the origin served %d: hit ratio %.3f", clientReqs.Load(), upstream, ratio)
	if ratio < 0.8 {
		t.Errorf("cache hit ratio %.3f with 50 clients, want at least 0.8", ratio)
	}
	logHits(t, accessLog)

	// ffmpeg dies: the program starts it again and the stream goes on after a
	// discontinuity, in the same playlist.
	p.mu.Lock()
	cur := p.runs[len(p.runs)-1]
	p.mu.Unlock()
	cur.mu.Lock()
	_ = cur.cmd.Process.Kill()
	cur.mu.Unlock()
	_, _, b = get(t, origin.URL+"/live/L1/archive.m3u8")
	n := len(segmentsOf(b))
	deadline = time.Now().Add(20 * time.Second)
	for {
		_, _, b = get(t, origin.URL+"/live/L1/archive.m3u8")
		if p.Runs() == 2 && len(segmentsOf(b)) >= n+3 && strings.Contains(string(b), "#EXT-X-DISCONTINUITY") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after ffmpeg died: %d runs, %d segments (was %d)\n%s", p.Runs(), len(segmentsOf(b)), n, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if restarted.Load() == 0 {
		t.Error("ffmpeg started again without asking for a keyframe")
	}
	if _, _, b := get(t, origin.URL+"/live/L1/index.m3u8"); strings.Contains(string(b), "#EXT-X-ENDLIST") {
		t.Error("the live playlist ended although the program goes on")
	}

	// The end: the archive lists every segment and ends.
	stopFeed()
	fed.Wait()
	stopAt := time.Now()
	must(t, p.Stop())
	t.Logf("ffmpeg stopped in %v", time.Since(stopAt).Round(time.Millisecond))
	must(t, MarkEnded(dir))
	st, h, arch := get(t, origin.URL+"/live/L1/archive.m3u8")
	if st != 200 || !strings.Contains(string(arch), "#EXT-X-ENDLIST") || !strings.Contains(string(arch), "#EXT-X-PLAYLIST-TYPE:VOD") ||
		!strings.Contains(h.Get("Cache-Control"), "max-age=3600") {
		log, _ := os.ReadFile(filepath.Join(dir, "ffmpeg.log"))
		t.Fatalf("archive: %d %v\n%s\nffmpeg: %s", st, h, arch, log)
	}
	all := segmentsOf(arch)
	if all[0] != "seg00100000.ts" || len(all) < 15 {
		t.Errorf("archive lists %d segments from %s", len(all), all[0])
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", filepath.Join(dir, all[len(all)/2])).Output()
	if err != nil || !strings.Contains(string(out), "h264") || !strings.Contains(string(out), "aac") {
		t.Errorf("a segment's streams: %q %v", out, err)
	}
}

func logHits(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		status, _, _ := strings.Cut(sc.Text(), " ")
		counts[status]++
	}
	t.Logf("nginx cache statuses (whole test): %v", counts)
}
