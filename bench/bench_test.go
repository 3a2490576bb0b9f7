package bench

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		xs   []int64
		p    float64
		want int64
	}{
		{nil, 50, 0},
		{[]int64{7}, 50, 7},
		{[]int64{7}, 99, 7},
		{[]int64{3, 1, 2}, 50, 2},
		{[]int64{1, 2, 3, 4}, 50, 2},
		{[]int64{1, 2, 3, 4}, 75, 3},
		{[]int64{1, 2, 3, 4}, 100, 4},
		{[]int64{5, 4, 3, 2, 1, 10, 9, 8, 7, 6}, 90, 9},
		{[]int64{5, 4, 3, 2, 1, 10, 9, 8, 7, 6}, 99, 10},
		{[]int64{1, 2, 3}, 0.1, 1},
	}
	for _, tt := range tests {
		if got := Percentile(append([]int64(nil), tt.xs...), tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %d, want %d", tt.xs, tt.p, got, tt.want)
		}
	}
	// 1..1000: p99 is 990, p50 is 500 (nearest rank).
	xs := make([]int64, 1000)
	for i := range xs {
		xs[len(xs)-1-i] = int64(i + 1)
	}
	if got := Percentile(xs, 99); got != 990 {
		t.Errorf("p99 of 1..1000 = %d", got)
	}
	if got := Percentile(xs, 50); got != 500 {
		t.Errorf("p50 of 1..1000 = %d", got)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A real line shape; the command name holds a space and a ')'.
	line := "4242 (yiz han) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0 100 123456 789 18446744073709551615\n"
	got, err := parseStatCPU([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want { // (250+75) ticks of 10 ms
		t.Errorf("cpu = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "1 (x S 1 2", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 ab 7 0"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q): no error", bad)
		}
	}
	// And the real file of this process parses.
	if _, err := ProcCPU(0); err != nil {
		t.Fatal(err)
	}
}

func TestParseStatusRSS(t *testing.T) {
	status := "Name:\tyizhan\nVmPeak:\t  99999 kB\nVmRSS:\t   20480 kB\nRssAnon:\t 1 kB\n"
	got, err := parseStatusRSS([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if got != 20480*1024 {
		t.Errorf("rss = %d", got)
	}
	for _, bad := range []string{"", "VmRSS: 12\n", "VmRSS: x kB\n", "VmRSS: 1 MB\n"} {
		if _, err := parseStatusRSS([]byte(bad)); err == nil {
			t.Errorf("parseStatusRSS(%q): no error", bad)
		}
	}
	if rss, err := ProcRSS(0); err != nil || rss <= 0 {
		t.Fatalf("own rss = %d, %v", rss, err)
	}
}

func TestParseCtxSwitches(t *testing.T) {
	status := "Name:\tx\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n"
	if got := parseCtxSwitches([]byte(status)); got != 127 {
		t.Errorf("ctx switches = %d, want 127", got)
	}
	if n, err := ProcCtxSwitches(0); err != nil || n <= 0 {
		t.Errorf("own ctx switches = %d, %v", n, err)
	}
}

func TestParseDemoPassword(t *testing.T) {
	log := `time=... level=INFO msg="media engine ready"
yizhan dev listening on http://127.0.0.1:17999 (ICE UDP 17998)
demo staff (username / password / roles / centre):
  admin              cptbtqsndj2l     admin                  city  系统管理员
  east-mediator      uuriylu4iuzg     mediator               east  王金牌
demo invitation links:
  east-mediator      wrong            x
`
	pw, err := parseDemoPassword(strings.NewReader(log), "east-mediator")
	if err != nil || pw != "uuriylu4iuzg" {
		t.Errorf("password = %q, %v", pw, err)
	}
	if _, err := parseDemoPassword(strings.NewReader(log), "nobody"); err == nil {
		t.Error("no error for an unknown user")
	}
}

func TestScenarioTable(t *testing.T) {
	all, err := Select("")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]int{ // publishers, subscribers (that subscribe), receivers per track
		"video1x10": {1, 10, 10},
		"video1x25": {1, 25, 25},
		"video1x50": {1, 50, 50},
		"meeting4":  {4, 4, 3},
		"video2x40": {2, 40, 40},
	}
	if len(all) != len(want) {
		t.Fatalf("default has %d scenarios, want %d", len(all), len(want))
	}
	for _, s := range all {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected default scenario %q", s.Name)
			continue
		}
		if got := [3]int{s.Publishers, s.SubscriberCount(), s.Receivers()}; got != w {
			t.Errorf("%s: publishers/subscribers/receivers = %v, want %v", s.Name, got, w)
		}
		if s.Record {
			t.Errorf("%s records", s.Name)
		}
	}
	if m, _ := lookup("meeting4"); !m.Audio || !m.Meeting || m.Participants() != 4 || m.Mediated {
		t.Errorf("meeting4 = %+v", m)
	}
	if m, _ := lookup("meeting4-recorded"); !m.Record || !m.Mediated || m.Participants() != 4 || m.Receivers() != 3 {
		t.Errorf("meeting4-recorded = %+v", m)
	}

	got, err := Select("meeting4, video3x7,tiny")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Publishers != 3 || got[1].Subscribers != 7 || got[2].Participants() != 3 {
		t.Errorf("Select = %+v", got)
	}
	if got, err := Select("all,meeting4-recorded"); err != nil || len(got) != len(Default)+1 || !got[len(got)-1].Record {
		t.Errorf("Select(all,meeting4-recorded) = %v, %v", got, err)
	}
	if l, ok := lookup("lecture1x500"); !ok || !l.Lecture || !l.Mediated || !l.Audio || l.Publishers != 1 || l.Receivers() != 500 {
		t.Errorf("lecture1x500 = %+v %v", l, ok)
	}
	for _, bad := range []string{"nope", "video0x5", "video1x5000", "video2x3y", ",", "lecture1x0", "lecture2x10", "lecture1x9999"} {
		if _, err := Select(bad); err == nil {
			t.Errorf("Select(%q): no error", bad)
		}
	}
}

// TestLatencyBuckets: the server's histogram as /metrics has it, a window of it,
// and quantiles interpolated inside buckets.
func TestLatencyBuckets(t *testing.T) {
	inf := math.Inf(1)
	before := latencyBuckets{le: []float64{0.0001, 0.002, inf}, cum: []float64{10, 10, 10}, count: 10, sum: 0.0005}
	after := latencyBuckets{le: before.le, cum: []float64{60, 109, 110}, count: 110, sum: 0.1005}
	d := after.since(before)
	if d.count != 100 || d.cum[0] != 50 || d.cum[1] != 99 || d.cum[2] != 100 || math.Abs(d.sum-0.1) > 1e-9 {
		t.Fatalf("window %+v", d)
	}
	if q := d.quantileUs(0.5); q != 100 {
		t.Errorf("p50 %v µs, want 100 (the first bucket's top)", q)
	}
	if q := d.quantileUs(0.99); q != 2000 {
		t.Errorf("p99 %v µs, want 2000", q)
	}
	if q := d.quantileUs(0.25); q != 50 {
		t.Errorf("p25 %v µs, want 50 (half way into the first bucket)", q)
	}
	if q := d.quantileUs(1); q != 2000 {
		t.Errorf("max %v µs, want the highest finite bound", q)
	}
	if q := (latencyBuckets{}).quantileUs(0.5); q != 0 {
		t.Errorf("empty: %v", q)
	}
}

// TestSmoke runs the tiny scenario end to end against a real server process.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and clients")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bin, err := Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(ctx, ServerConfig{Binary: bin, CPU: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	sc, _ := lookup("tiny")
	res, err := Run(ctx, srv, sc, RunConfig{Duration: 2 * time.Second, Warmup: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.ForwardedPPS < 100 || res.ExpectedPPS < 100 {
		t.Errorf("forwarded %v pps of %v expected", res.ForwardedPPS, res.ExpectedPPS)
	}
	if res.Loss > 0.05 {
		t.Errorf("loss %v", res.Loss)
	}
	if res.JoinSamples != 2 || res.LatencySamples == 0 || res.ServerCPUCores <= 0 || res.RSSMB <= 0 {
		t.Errorf("missing measurements: %+v", res)
	}
	if res.JoinToKeyframeP50 < res.JoinToFirstP50 || res.JoinToKeyframeP50 <= 0 || res.KeyframeEveryMS != 2000 {
		t.Errorf("join to first keyframe: %+v", res)
	}
	// The server's own view: one sample per packet per pass; in tiny every packet
	// goes to its 2 subscribers in one pass. Far under the end-to-end latency.
	pkts := res.ForwardedPPS * res.DurationS
	if n := float64(res.ServerAddedSamples); n < pkts/2*0.8 || n > pkts*1.2 {
		t.Errorf("%d server latency samples for %.0f packets forwarded", res.ServerAddedSamples, pkts)
	}
	if res.ServerFwdSamples != res.ServerAddedSamples {
		t.Errorf("%d samples from the forwarding path, %d from the kernel's stamps", res.ServerFwdSamples, res.ServerAddedSamples)
	}
	if res.ServerAddedP50Us <= 0 || res.ServerAddedP50Us > res.ServerAddedP99Us || res.ServerAddedP50Us > float64(res.LatencyUsP50) ||
		res.ServerFwdP50Us <= 0 || res.ServerFwdP50Us > res.ServerAddedP50Us {
		t.Errorf("server added p50 %v p99 %v µs (forwarding path p50 %v), end to end p50 %v µs", res.ServerAddedP50Us, res.ServerAddedP99Us, res.ServerFwdP50Us, res.LatencyUsP50)
	}
	dir := srv.Dir
	srv.Stop()
	if srv.Alive() {
		t.Error("server still running after Stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "server.log")); !os.IsNotExist(err) {
		t.Errorf("server dir not removed: %v", err)
	}
}
