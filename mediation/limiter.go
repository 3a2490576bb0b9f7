package mediation

import (
	"sync"
	"time"
)

// limiter counts events per key in a fixed window: allow is false once a key reached max
// within the window. It suits counting what a caller asks the server to do (one-time
// codes sent by SMS); failures of a password or code are slowed by throttle.go instead,
// which never refuses the right one. Memory is bounded: expired keys are swept as it
// grows.
type limiter struct {
	max    int
	window time.Duration

	mu   sync.Mutex // guards keys
	keys map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(max int, w time.Duration) *limiter {
	return &limiter{max: max, window: w, keys: map[string]*window{}}
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
	if len(l.keys) > 100000 {
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
