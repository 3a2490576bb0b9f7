package mediation

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// throttle slows a source (an address, a username) that keeps failing: a wrong password,
// an unknown invitation code. Only failures count, and only failures are slowed: the
// answer to a failed attempt is held back for a delay that doubles with the source's
// recent failures. A correct password or code is never delayed nor refused, whoever
// else failed from the same address (a TLS proxy, a carrier-grade NAT) or against the
// same account (someone trying to lock a mediator out before a hearing).
//
// Holding answers bounds how fast one source can guess: at most maxHeld attempts wait
// at once; a further failure is answered 429 at once, with a Retry-After after which the
// held answers have all gone out.
type throttle struct {
	// Static after construction.
	free    int           // failures before any delay
	base    time.Duration // delay of the first slowed failure; doubles with each further one
	max     time.Duration // the longest hold
	forget  time.Duration // a source without failures for this long starts again from zero
	maxHeld int           // answers held at once per source
	maxKeys int           // sources remembered at once; beyond, new ones are not slowed

	mu    sync.Mutex // guards keys and swept
	keys  map[string]*failSource
	swept time.Time // the last sweep of quiet sources

	full atomic.Uint64 // failures answered 429 because maxHeld answers were waiting
	over atomic.Uint64 // sources not remembered because maxKeys were
}

type failSource struct {
	n         int       // failures since the source was last forgotten
	last      time.Time // the latest failure
	held      int       // answers being held now
	heldUntil time.Time // when the last held answer goes out
}

func newThrottle(free int, base, max, forget time.Duration) *throttle {
	return &throttle{free: free, base: base, max: max, forget: forget, maxHeld: 8, maxKeys: 100000, keys: map[string]*failSource{}}
}

// delay is the hold after a source's n-th failure.
func (t *throttle) delay(n int) time.Duration {
	if n <= t.free {
		return 0
	}
	d := t.base
	for i := t.free + 1; i < n && d < t.max; i++ {
		d *= 2
	}
	return min(d, t.max)
}

// fail counts a failure of key at now. It returns how long to hold the answer, or
// full with how long until the answers already held have gone out.
func (t *throttle) fail(key string, now time.Time) (hold time.Duration, full bool, retry time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	if f == nil {
		// quiet sources are forgotten once per forget period (memory follows the
		// traffic) and at once when the table is full
		if len(t.keys) >= t.maxKeys || now.Sub(t.swept) >= t.forget {
			t.sweepLocked(now)
		}
		if len(t.keys) >= t.maxKeys {
			t.over.Add(1)
			return 0, false, 0
		}
		f = &failSource{}
		t.keys[key] = f
	}
	if f.held == 0 && now.Sub(f.last) >= t.forget {
		f.n = 0
	}
	f.n++
	f.last = now
	if f.held >= t.maxHeld {
		t.full.Add(1)
		return 0, true, f.heldUntil.Sub(now)
	}
	hold = t.delay(f.n)
	f.held++
	if until := now.Add(hold); until.After(f.heldUntil) {
		f.heldUntil = until
	}
	return hold, false, 0
}

// release ends one held answer of key.
func (t *throttle) release(key string) {
	t.mu.Lock()
	if f := t.keys[key]; f != nil && f.held > 0 {
		f.held--
	}
	t.mu.Unlock()
}

// sweepLocked forgets the sources that have been quiet for t.forget.
func (t *throttle) sweepLocked(now time.Time) {
	t.swept = now
	for k, f := range t.keys {
		if f.held == 0 && now.Sub(f.last) >= t.forget {
			delete(t.keys, k)
		}
	}
}

// size is how many sources are remembered (tests, bounds).
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

// failed counts a failure against every key (one throttle each) and holds the answer
// for the longest of their delays, or answers 429 when a source already has too many
// answers waiting. It returns nil when the caller should now give its failure answer.
func (s *core) failed(ctx context.Context, keys ...throttleKey) error {
	now := s.now()
	var hold, retry time.Duration
	full := false
	held := keys[:0:0]
	for _, k := range keys {
		h, f, r := k.t.fail(k.key, now)
		if f {
			full, retry = true, max(retry, r)
			continue
		}
		held = append(held, k)
		hold = max(hold, h)
	}
	defer func() {
		for _, k := range held {
			k.t.release(k.key)
		}
	}()
	if full {
		secs := int((retry + time.Second - 1) / time.Second)
		return &apiError{status: http.StatusTooManyRequests, code: "rate_limited", retryAfter: max(secs, 1),
			msg: "too many failed attempts are waiting from your address or for this account; try again after Retry-After seconds"}
	}
	if hold > 0 {
		if err := s.cfg.Sleep(ctx, hold); err != nil {
			return err
		}
	}
	return nil
}

// throttleKey is one source in one throttle.
type throttleKey struct {
	t   *throttle
	key string
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tooMany is a 429 whose Retry-After is d, rounded up to whole seconds (at least 1).
func tooMany(d time.Duration, msg string) *apiError {
	secs := int((d + time.Second - 1) / time.Second)
	return &apiError{status: http.StatusTooManyRequests, code: "rate_limited", retryAfter: max(secs, 1), msg: msg}
}
