package mediation

import (
	"sync"
	"time"
)

// limiter counts events per key in a fixed window: allow is false once a key reached max
// within the window. It suits counting what a caller asks the server to do (one-time
// codes sent by SMS); failures of a password or code are slowed by throttle.go instead,
// which never refuses the right one. Memory follows the traffic: keys whose window has
// ended are swept once per window (and at once past 100,000 keys), so a quiet server
// holds none.
type limiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex // guards keys and swept
	keys  map[string]*window
	swept time.Time // the last sweep of ended windows
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(max int, w time.Duration) *limiter {
	return &limiter{max: max, window: w, keys: map[string]*window{}}
}

// size is how many keys are remembered (tests).
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.keys[key]
	return w == nil || now.Sub(w.start) >= l.window || w.n < l.max
}

// retryAfter is how long until key's window ends: when allow says yes again.
func (l *limiter) retryAfter(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.keys[key]; w != nil {
		return max(w.start.Add(l.window).Sub(now), 0)
	}
	return 0
}

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) > 100000 || now.Sub(l.swept) >= l.window {
		l.swept = now
		for k, w := range l.keys {
			if now.Sub(w.start) >= l.window {
				delete(l.keys, k)
			}
		}
	}
	w := l.keys[key]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.keys[key] = w
	}
	w.n++
}
