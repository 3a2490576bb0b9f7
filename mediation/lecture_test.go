package mediation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/signaling"
)

type lectureJoin struct {
	URL      string `json:"url"`
	Token    string `json:"token"`
	Identity string `json:"identity"`
	HLS      string `json:"hls"`
	AskToken string `json:"ask_token"`
}

// newLecture creates and starts a lecture of centre east with the mediator speaking.
func (ls *liveServer) newLecture() lectureJSON {
	ls.t.Helper()
	var lec lectureJSON
	ls.call("mediator", "POST", "/api/lectures", `{"title":"婚姻家庭法讲座","scheduled_at":"2026-12-07T14:00:00+08:00",
		"centre":"east","speakers":["med"]}`, 201, &lec)
	if lec.ID == 0 || lec.Room == "" || lec.PublicURL == "" {
		ls.t.Fatalf("create lecture: %+v", lec)
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/start", lec.ID), "", 200, &lec)
	return lec
}

// speaker joins the lecture as its speaker and publishes camera and microphone.
func (ls *liveServer) speaker(lec lectureJSON) *lktest.Client {
	ls.t.Helper()
	var j lectureJoin
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/join", lec.ID), "", 200, &j)
	c := ls.connect(joinJSON{URL: j.URL, Token: j.Token, Identity: j.Identity})
	publishAV(ls.t, c)
	return c
}

// viewers joins n viewers through the public API, a few at a time.
func (ls *liveServer) viewers(lec lectureJSON, n int) ([]*lktest.Client, []lectureJoin) {
	ls.t.Helper()
	cs, js := make([]*lktest.Client, n), make([]lectureJoin, n)
	for i := range js {
		ls.call("anonymous", "POST", fmt.Sprintf("/api/public/lectures/%d/join", lec.ID),
			fmt.Sprintf(`{"name":"观众%d","centre":"east-v"}`, i), 200, &js[i])
		if js[i].Token == "" {
			ls.t.Fatalf("viewer %d got no token: %+v", i, js[i])
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make([]error, n)
	for i := range js {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cs[i], errs[i] = lktest.Connect(js[i].URL, js[i].Token)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			ls.t.Fatalf("viewer %d: %v", i, err)
		}
		ls.t.Cleanup(cs[i].Close)
	}
	return cs, js
}

func metaViewers(c *lktest.Client) int {
	var m lectureMetaJSON
	_ = json.Unmarshal([]byte(c.Metadata()), &m)
	return m.Lecture.Viewers
}

// TestLectureSpeakerAndFiftyViewers: real SDK clients. Viewers see only the speaker and a
// count, never each other; a viewer cannot publish; a question reaches the moderator; a
// viewer brought on stage publishes and is seen by all, then taken off again.
func TestLectureSpeakerAndFiftyViewers(t *testing.T) {
	ls := newLiveServer(t)
	lec := ls.newLecture()
	spk := ls.speaker(lec)
	S := spk.Identity
	vs, js := ls.viewers(lec, 50)

	waitFor(t, "every viewer receives the speaker's video and audio and sees a count of 50", func() bool {
		for _, v := range vs {
			if v.PacketsFrom(S, "video") == 0 || v.PacketsFrom(S, "audio") == 0 || metaViewers(v) != 50 {
				return false
			}
		}
		return true
	})
	for i, v := range vs {
		rps := v.Room.GetRemoteParticipants()
		if len(rps) != 1 || rps[0].Identity() != S {
			t.Fatalf("viewer %d sees %d participants, want only the speaker", i, len(rps))
		}
	}
	if n := len(spk.Room.GetRemoteParticipants()); n != 0 {
		t.Errorf("the speaker sees %d participants, want 0 (viewers are hidden)", n)
	}
	if metaViewers(spk) != 50 {
		t.Errorf("the speaker's count is %d, want 50", metaViewers(spk))
	}
	var info struct {
		Title   string `json:"title"`
		State   string `json:"state"`
		Viewers int    `json:"viewers"`
	}
	ls.call("anonymous", "GET", fmt.Sprintf("/api/public/lectures/%d", lec.ID), "", 200, &info)
	if info.State != "live" || info.Viewers != 50 || info.Title == "" {
		t.Errorf("public info: %+v", info)
	}

	// A viewer cannot publish: the server refuses the track and nobody receives it.
	v0, v1 := vs[0], vs[1]
	done := make(chan error, 1)
	go func() { _, err := v0.PublishVP8(lktest.VideoOptions{BitrateKbps: 100, FPS: 10}); done <- err }()
	select {
	case err := <-done:
		t.Logf("viewer publish: %v", err)
	case <-time.After(20 * time.Second):
	}
	quiet(t, "a viewer's refused track", packets(spk, v0.Identity), packets(v1, v0.Identity))

	// A question reaches the moderator; a bad token and a flood are refused.
	ls.call("anonymous", "POST", fmt.Sprintf("/api/public/lectures/%d/questions", lec.ID),
		fmt.Sprintf(`{"identity":%q,"token":%q,"text":"离婚后孩子的抚养费怎么算？"}`, js[1].Identity, js[1].Token), 201, nil)
	if st, b := ls.do("anonymous", "POST", fmt.Sprintf("/api/public/lectures/%d/questions", lec.ID),
		fmt.Sprintf(`{"identity":%q,"token":%q,"text":"冒名"}`, js[1].Identity, js[2].Token)); st != 403 {
		t.Errorf("a question with another viewer's token: %d %s", st, b)
	}
	var qs []questionJSON
	ls.call("mediator", "GET", fmt.Sprintf("/api/lectures/%d/questions", lec.ID), "", 200, &qs)
	if len(qs) != 1 || qs[0].Identity != js[1].Identity || qs[0].Centre != "east-v" || qs[0].AnsweredAt != nil {
		t.Fatalf("questions: %+v", qs)
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/questions/%d/answered", lec.ID, qs[0].ID), "", 200, nil)
	ls.call("mediator", "GET", fmt.Sprintf("/api/lectures/%d/questions", lec.ID), "", 200, &qs)
	if qs[0].AnsweredAt == nil {
		t.Error("the question is not marked answered")
	}
	limited := false
	for i := 0; i < 8 && !limited; i++ {
		st, _ := ls.do("anonymous", "POST", fmt.Sprintf("/api/public/lectures/%d/questions", lec.ID),
			fmt.Sprintf(`{"identity":%q,"token":%q,"text":"再问%d"}`, js[3].Identity, js[3].Token, i))
		limited = st == 429
	}
	if !limited {
		t.Error("eight questions in a row were not rate-limited")
	}

	// On stage: v1 may publish and is seen by all.
	V := v1.Identity
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/stage", lec.ID), fmt.Sprintf(`{"identity":%q,"on":true}`, V), 200, nil)
	waitFor(t, "the viewer on stage may publish", func() bool { return v1.Room.LocalParticipant.Permissions().GetCanPublish() })
	if _, err := v1.PublishVP8(lktest.VideoOptions{BitrateKbps: 100, FPS: 10}); err != nil {
		t.Fatalf("on stage, publish: %v", err)
	}
	waitFor(t, "everyone sees and receives the viewer on stage", func() bool {
		if spk.PacketsFrom(V, "video") == 0 {
			return false
		}
		for _, v := range vs[2:] {
			if v.PacketsFrom(V, "video") == 0 || v.Room.GetParticipantByIdentity(V) == nil {
				return false
			}
		}
		return true
	})
	waitFor(t, "the metadata names the viewer on stage", func() bool {
		var m lectureMetaJSON
		_ = json.Unmarshal([]byte(vs[5].Metadata()), &m)
		return len(m.Lecture.Stage) == 1 && m.Lecture.Stage[0] == V
	})
	if n := len(vs[7].Room.GetRemoteParticipants()); n != 2 {
		t.Errorf("with one viewer on stage, a viewer sees %d participants, want 2", n)
	}

	// Off stage: hidden again, its track unpublished, nobody receives it.
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/stage", lec.ID), fmt.Sprintf(`{"identity":%q,"on":false}`, V), 200, nil)
	waitFor(t, "everyone sees the viewer leave the stage", func() bool {
		if spk.Room.GetParticipantByIdentity(V) != nil {
			return false
		}
		for _, v := range vs[2:] {
			if v.Room.GetParticipantByIdentity(V) != nil {
				return false
			}
		}
		return !v1.Room.LocalParticipant.Permissions().GetCanPublish()
	})
	quiet(t, "the viewer off stage", packets(spk, V), packets(vs[2], V), packets(vs[49], V))
	if v1.PacketsFrom(S, "video") == 0 {
		t.Error("the viewer off stage no longer receives the speaker")
	}

	// Attendance: 50 viewers of east-v joined, peak 50.
	var att struct {
		Peak int              `json:"peak"`
		Rows []attendanceJSON `json:"rows"`
	}
	waitFor(t, "attendance counts 50 viewers of east-v", func() bool {
		ls.call("mediator", "GET", fmt.Sprintf("/api/lectures/%d/attendance", lec.ID), "", 200, &att)
		return len(att.Rows) == 1 && att.Rows[0].Centre == "east-v" && att.Rows[0].Viewers == 50 && att.Rows[0].Peak == 50 && att.Peak == 50
	})

	// The end closes the room; a viewer can no longer join.
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/end", lec.ID), "", 200, nil)
	if st, b := ls.do("anonymous", "POST", fmt.Sprintf("/api/public/lectures/%d/join", lec.ID), `{}`); st != 409 {
		t.Errorf("join after the end: %d %s", st, b)
	}
}

// TestLectureSignalPerJoin: the signal messages a viewer's join causes (to itself and to
// everyone else) are the same in a room of 10 viewers as in one of 40. Counted, not
// timed. Room updates (the audience count, at most one a second), pongs (the clients
// ping) and link reports (a publisher's connection quality changing, told to those who
// see it) are driven by the clock, not by joins, and are reported apart.
func TestLectureSignalPerJoin(t *testing.T) {
	const joins = 5
	perJoin := map[int]float64{}
	for _, n := range []int{10, 40} {
		ls := newLiveServer(t)
		lec := ls.newLecture()
		spk := ls.speaker(lec)
		vs, _ := ls.viewers(lec, n)
		waitFor(t, "the viewers receive the speaker and see the count", func() bool {
			for _, v := range vs {
				if v.PacketsFrom(spk.Identity, "video") == 0 || v.PacketsFrom(spk.Identity, "audio") == 0 || metaViewers(v) != n {
					return false
				}
			}
			return true
		})
		time.Sleep(1500 * time.Millisecond) // offers answered, the count reported
		before := ls.sig.SignalCounts()
		start := time.Now()
		for i := 0; i < joins; i++ {
			more, _ := ls.viewers(lec, 1)
			waitFor(t, "the new viewer receives the speaker", func() bool {
				return more[0].PacketsFrom(spk.Identity, "video") > 0 && more[0].PacketsFrom(spk.Identity, "audio") > 0
			})
		}
		waitFor(t, "the count includes the new viewers", func() bool { return metaViewers(vs[0]) == n+joins })
		time.Sleep(1500 * time.Millisecond)
		after := ls.sig.SignalCounts()
		d := func(a, b uint64) float64 { return float64(a - b) }
		perJoin[n] = (d(after.Sent, before.Sent) - d(after.RoomUpdates, before.RoomUpdates) - d(after.Pongs, before.Pongs) - d(after.Links, before.Links)) / joins
		t.Logf("N=%d: %.1f signal messages per join (room updates %v to %d participants over %v, pongs %v, link reports %v)",
			n, perJoin[n], after.RoomUpdates-before.RoomUpdates, n+joins+1, time.Since(start).Round(100*time.Millisecond),
			after.Pongs-before.Pongs, after.Links-before.Links)
	}
	if perJoin[10] != perJoin[40] {
		t.Errorf("signal messages per join: %.1f with 10 viewers, %.1f with 40", perJoin[10], perJoin[40])
	}
}

// TestLectureHLS: a speaker publishes real VP8/Opus; the lecture's program appears as
// HLS at /live/{id}/index.m3u8; viewers past --lecture-max-webrtc get the HLS stream
// instead of a token; a viewer brought on stage is mixed into the program (one stream,
// after a discontinuity); the end leaves an archive that plays to its end.
func TestLectureHLS(t *testing.T) {
	var prog *LectureProgram
	liveDir := filepath.Join(t.TempDir(), "live")
	ls := newLiveServerWith(t, func(sig *signaling.Server) Config {
		prog = NewLectureProgram(LectureProgramConfig{Dir: liveDir, Rooms: sig, Logger: testLogger(t)})
		return Config{Lectures: LectureConfig{MaxWebRTC: 2, Program: prog}}
	})
	t.Cleanup(prog.Close)
	edge := httptest.NewServer(prog.Handler())
	t.Cleanup(edge.Close)
	clip := lktest.MustClip(t)

	lec := ls.newLecture()
	var j lectureJoin
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/join", lec.ID), "", 200, &j)
	spk := ls.connect(joinJSON{URL: j.URL, Token: j.Token, Identity: j.Identity})
	spk.MustPublishClip(t, clip)

	playlist := func(name string) string {
		resp, err := http.Get(edge.URL + fmt.Sprintf("/live/%d/%s", lec.ID, name))
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return ""
		}
		return string(b)
	}
	waitFor(t, "the live playlist lists segments", func() bool { return strings.Count(playlist("index.m3u8"), ".ts\n") >= 2 })

	vs, _ := ls.viewers(lec, 2)
	_ = vs
	var full lectureJoin
	ls.call("anonymous", "POST", fmt.Sprintf("/api/public/lectures/%d/join", lec.ID), `{"name":"第三位"}`, 200, &full)
	if full.Token != "" || full.HLS != fmt.Sprintf("/live/%d/index.m3u8", lec.ID) || full.AskToken == "" {
		t.Fatalf("past the WebRTC seats: %+v, want the HLS stream and a question token", full)
	}
	ls.call("anonymous", "POST", fmt.Sprintf("/api/public/lectures/%d/questions", lec.ID),
		fmt.Sprintf(`{"identity":%q,"token":%q,"text":"HLS 观众也能提问吗？"}`, full.Identity, full.AskToken), 201, nil)

	// A viewer on stage speaks: the program mixes both microphones, in the same stream.
	var more lectureJoin
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/join", lec.ID), `{"screen":true,"people":30}`, 200, &more)
	if more.Token == "" {
		t.Fatalf("a centre's screen joins even when the seats are taken: %+v", more)
	}
	V := vs[0].Identity
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/stage", lec.ID), fmt.Sprintf(`{"identity":%q,"on":true}`, V), 200, nil)
	waitFor(t, "the viewer on stage may publish", func() bool { return vs[0].Room.LocalParticipant.Permissions().GetCanPublish() })
	vs[0].MustPublishClip(t, clip)
	waitFor(t, "the program goes on with both voices after a discontinuity", func() bool {
		a := playlist("archive.m3u8")
		i := strings.Index(a, "#EXT-X-DISCONTINUITY")
		return i > 0 && strings.Count(a[i:], ".ts\n") >= 2
	})
	arch := playlist("archive.m3u8")
	segs := strings.Split(strings.TrimSpace(arch), "\n")
	last := filepath.Join(liveDir, strconv.FormatInt(lec.ID, 10), segs[len(segs)-1])
	if out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels", "-of", "csv=p=0", last).Output(); err != nil ||
		!strings.Contains(string(out), "h264") || !strings.Contains(string(out), "aac") {
		t.Errorf("%s: %q %v", last, out, err)
	}

	var ended lectureJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/lectures/%d/end", lec.ID), "", 200, &ended)
	if ended.Archive != fmt.Sprintf("/live/%d/archive.m3u8", lec.ID) || ended.HLS != "" {
		t.Fatalf("ended lecture: archive %q hls %q", ended.Archive, ended.HLS)
	}
	arch = playlist("archive.m3u8")
	if !strings.HasSuffix(arch, "#EXT-X-ENDLIST\n") || !strings.Contains(arch, "#EXT-X-PLAYLIST-TYPE:VOD") {
		t.Fatalf("archive after the end:\n%s", arch)
	}
	// The archive plays from start to end.
	dctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	out, err := exec.CommandContext(dctx, "ffmpeg", "-v", "error", "-i", filepath.Join(liveDir, strconv.FormatInt(lec.ID, 10), "program.m3u8"), "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Errorf("decoding the archive: %v\n%s", err, out)
	}
}
