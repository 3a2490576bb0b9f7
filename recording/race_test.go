package recording

import (
	"sync"
	"testing"
	"time"
)

// Sender reports, events and Close come from other goroutines than the packets
// (the media layer's RTCP loop, the mediation layer); run with -race.
func TestConcurrentUse(t *testing.T) {
	withTimeout(t, 60*time.Second)
	c := testClip(t)
	data := t.TempDir()
	key, err := LoadOrCreateKey(data)
	must(t, err)
	s := openTestSession(t, data)
	vw, err := s.NewTrackWriter(TrackMeta{Identity: "a", TrackSID: "v", MimeType: "video/VP8"})
	must(t, err)
	aw, err := s.NewTrackWriter(TrackMeta{Identity: "a", TrackSID: "au", MimeType: "audio/opus"})
	must(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(3)
	go func() { // the RTCP loop
		defer wg.Done()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			vw.WriteSenderReport(timeToNTP(time.Now()), i*3000)
			aw.WriteSenderReport(timeToNTP(time.Now()), i*960)
			time.Sleep(time.Millisecond)
		}
	}()
	go func() { // events
		defer wg.Done()
		for i := 0; i < 50; i++ {
			s.Log(Event{Kind: KindMuted, Subject: "a"})
		}
	}()
	go func() {
		defer wg.Done()
		feed(t, vw, c.videoPackets())
	}()
	feed(t, aw, c.audioPackets())
	close(stop)
	wg.Wait()
	_, err = s.Seal(key) // closes both writers
	must(t, err)
	if err := vw.WriteRTP(c.videoPackets()[0][0]); err == nil {
		t.Error("write after seal accepted")
	}
	if _, err := s.NewTrackWriter(TrackMeta{Identity: "a", TrackSID: "x", MimeType: "audio/opus"}); err != ErrSealed {
		t.Errorf("new writer after seal: %v", err)
	}
	if _, err := Verify(s.Dir(), nil); err != nil {
		t.Error(err)
	}
}
