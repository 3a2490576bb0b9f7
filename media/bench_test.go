package media

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// BenchmarkForwardPion is BenchmarkForward through real subscriber peer
// connections: Pion's interceptors (NACK buffer, reports, TWCC), SRTP and the
// UDP mux included. It is the number to size a lecture with.
func BenchmarkForwardPion(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(itoa(n)+"subs", func(b *testing.B) {
			eng, err := NewEngine(Config{Logger: testLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			api := clientAPI(b)
			up := eng.NewUpTrack(UpTrackConfig{ID: "up", Kind: webrtc.RTPCodecTypeVideo})
			up.codec = webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: vp8Cap()}
			up.ck = codecVP8
			var pcs []*webrtc.PeerConnection
			defer func() {
				for _, pc := range pcs {
					_ = pc.Close()
				}
			}()
			for range n {
				srv, err := eng.NewPeerConnection(nil)
				if err != nil {
					b.Fatal(err)
				}
				d := up.NewDownTrack("v", "s")
				sender, err := srv.AddTrack(d)
				if err != nil {
					b.Fatal(err)
				}
				d.Attach(sender)
				sub, err := api.NewPeerConnection(webrtc.Configuration{})
				if err != nil {
					b.Fatal(err)
				}
				sub.OnTrack(func(r *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
					buf := make([]byte, 1500)
					for {
						if _, _, err := r.Read(buf); err != nil {
							return
						}
					}
				})
				pcs = append(pcs, srv, sub)
				connected := make(chan struct{})
				srv.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
					if s == webrtc.PeerConnectionStateConnected {
						close(connected)
					}
				})
				signal(b, srv, sub)
				select {
				case <-connected:
				case <-time.After(10 * time.Second):
					b.Fatal("subscriber did not connect")
				}
			}
			waitBound := time.Now().Add(5 * time.Second)
			for len(up.downs.Load().all) < n && time.Now().Before(waitBound) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := len(up.downs.Load().all); got != n {
				b.Fatalf("%d of %d down tracks bound", got, n)
			}
			f := newFeeder(up)
			for range 200 {
				f.next()
			}
			before := eng.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				f.next()
			}
			b.StopTimer()
			st := eng.Stats()
			b.ReportMetric(float64(st.PacketsForwarded-before.PacketsForwarded)/float64(b.N), "writes/op")
		})
	}
}
