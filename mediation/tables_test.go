package mediation

import (
	"strconv"
	"testing"
	"time"
)

// TestTablesForgetQuietKeys (issue 12's soak: tables that never shrink): the per-key
// tables a client fills by its traffic (the failure throttle, the event limiter, the
// intake token buckets) forget the keys that have gone quiet once their period has
// passed, not only when they reach their 100,000-key bound: after a burst from 1,000
// addresses and one quiet period, one new key leaves one key remembered.
func TestTablesForgetQuietKeys(t *testing.T) {
	now := time.Unix(1000, 0)
	const burst = 1000

	th := newThrottle(2, time.Second, 8*time.Second, time.Minute)
	for i := range burst {
		th.fail(strconv.Itoa(i), now)
		th.release(strconv.Itoa(i))
	}
	th.fail("busy", now.Add(30*time.Second)) // within the period: nothing is forgotten yet
	th.release("busy")
	if n := th.size(); n != burst+1 {
		t.Errorf("throttle within the forget period: %d keys, want %d", n, burst+1)
	}
	th.fail("later", now.Add(2*time.Minute))
	th.release("later")
	if n := th.size(); n != 1 {
		t.Errorf("throttle after a quiet period: %d keys remembered, want 1", n)
	}

	l := newLimiter(3, 10*time.Minute)
	for i := range burst {
		l.fail(strconv.Itoa(i), now)
	}
	l.fail("later", now.Add(11*time.Minute))
	if n := l.size(); n != 1 {
		t.Errorf("limiter after a quiet window: %d keys remembered, want 1", n)
	}

	b := newBuckets(5, time.Minute)
	for i := range burst {
		b.take(strconv.Itoa(i), now)
	}
	b.take("later", now.Add(6*time.Minute)) // every bucket is full again after 5 minutes
	if n := b.size(); n != 1 {
		t.Errorf("buckets after they refilled: %d keys remembered, want 1", n)
	}
}
