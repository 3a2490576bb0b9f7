package mediation

import (
	"sync"
	"time"
)

// buckets is a token bucket per key: burst tokens, refilled at one per every. Citizens
// share carrier-NAT addresses, so the public entrance keys one set of buckets by phone
// number and another by address, both with generous bursts; a phone that used up its own
// bucket is refused before it can drain its address's (see intake.allow).
type buckets struct {
	burst float64
	every time.Duration

	mu    sync.Mutex // guards m and swept
	m     map[string]*bucket
	swept time.Time // the last sweep of full buckets
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(burst int, every time.Duration) *buckets {
	return &buckets{burst: float64(burst), every: every, m: map[string]*bucket{}}
}

// refillLocked brings key's bucket to now; b.mu must be held.
func (b *buckets) refillLocked(key string, now time.Time) *bucket {
	k := b.m[key]
	if k == nil {
		// A full bucket is the same as none: forget them once per refill time (memory
		// follows the traffic), and at once past 100,000 keys (bounded).
		if len(b.m) > 100000 || now.Sub(b.swept) >= time.Duration(b.burst)*b.every {
			b.swept = now
			for key, old := range b.m {
				if old.tokens+float64(now.Sub(old.at))/float64(b.every) >= b.burst {
					delete(b.m, key)
				}
			}
		}
		k = &bucket{tokens: b.burst, at: now}
		b.m[key] = k
	}
	k.tokens += float64(now.Sub(k.at)) / float64(b.every)
	if k.tokens > b.burst {
		k.tokens = b.burst
	}
	k.at = now
	return k
}

// size is how many keys are remembered (tests).
func (b *buckets) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// has reports whether key has a token, taking none.
func (b *buckets) has(key string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refillLocked(key, now).tokens >= 1
}

// take takes one token of key (it may go below one: has said yes just before).
func (b *buckets) take(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked(key, now).tokens--
}

// wait is how long until key has a token again: the truthful Retry-After (issue 12).
func (b *buckets) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.refillLocked(key, now)
	if k.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - k.tokens) * float64(b.every))
}
