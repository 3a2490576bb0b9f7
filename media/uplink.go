package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// layerRx counts what one layer's read loop received. Written only by that
// loop; read by the meters.
type layerRx struct {
	bytes   atomic.Uint64
	packets atomic.Uint64
	highest atomic.Uint64 // highest extended sequence number seen
}

func (r *layerRx) observe(n int, ext uint64) {
	r.bytes.Add(uint64(n))
	r.packets.Add(1)
	if ext > r.highest.Load() {
		r.highest.Store(ext)
	}
}

// meterEvery is the shortest window a rate is measured over; asking more
// often returns the last measure.
const meterEvery = 400 * time.Millisecond

// upMeter turns an up track's counters into rates and loss. Guarded by its
// own mutex; whoever asks first after meterEvery advances it.
type upMeter struct {
	mu       sync.Mutex
	at       time.Time
	bytes    [maxLayers]uint64
	packets  [maxLayers]uint64
	highest  [maxLayers]uint64
	rates    [maxLayers]float64 // bits per second, smoothed, while the layer last flowed
	known    [maxLayers]bool    // the layer flowed at some point: rates[i] is measured
	loss     float64            // fraction of packets that never came, smoothed
	lastRecv time.Time          // when any packet last came
}

// UpStats is what the server sees of a publisher's track.
type UpStats struct {
	Rates    [maxLayers]float64 // bits per second per layer, as last measured while it flowed
	Known    [maxLayers]bool    // whether Rates[i] was ever measured
	Flowing  uint32             // mask of layers flowing
	Loss     float64            // fraction of packets lost on the publisher's uplink
	LastRecv time.Time          // arrival of the newest packet (zero: none yet)
}

// Stats measures the track's layers' rates and its uplink loss.
func (t *UpTrack) Stats() UpStats {
	m := &t.meter
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if dt := now.Sub(m.at); m.at.IsZero() || dt >= meterEvery {
		var expected, received uint64
		for i := range t.layers {
			l := t.layers[i].Load()
			if l == nil {
				continue
			}
			b, p, h := l.rx.bytes.Load(), l.rx.packets.Load(), l.rx.highest.Load()
			if p > m.packets[i] {
				// Also on the first look: a track whose few packets all came
				// before it would otherwise never have arrived, and never go silent.
				m.lastRecv = now
			}
			if !m.at.IsZero() && p > m.packets[i] {
				rate := float64(b-m.bytes[i]) * 8 / dt.Seconds()
				if m.known[i] {
					rate = 0.5*m.rates[i] + 0.5*rate
				}
				m.rates[i], m.known[i] = rate, true
				if m.highest[i] != 0 && h > m.highest[i] {
					expected += h - m.highest[i]
					received += p - m.packets[i]
				}
			}
			m.bytes[i], m.packets[i], m.highest[i] = b, p, h
		}
		if expected > 0 {
			// Retransmissions can make received exceed expected: no loss then.
			lost := float64(expected-min(received, expected)) / float64(expected)
			m.loss = 0.6*m.loss + 0.4*lost
		}
		m.at = now
	}
	s := UpStats{Rates: m.rates, Known: m.known, Loss: m.loss, LastRecv: m.lastRecv}
	// Not t.flowing: the read loops clear its bits, and they do not run
	// when every layer has stopped.
	tnow := t.now()
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil && l.rx.packets.Load() > 0 && tnow-l.lastPacket.Load() <= layerStopAfter {
			s.Flowing |= 1 << i
		}
	}
	return s
}
