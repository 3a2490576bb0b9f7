package mediation

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// holdLog stands in for the real wait of a held failure answer: it records each hold
// and, while gated, blocks until the test opens the gate.
type holdLog struct {
	mu    sync.Mutex // guards holds and gate
	holds []time.Duration
	gate  chan struct{} // nil: holds return at once
}

func (h *holdLog) sleep(ctx context.Context, d time.Duration) error {
	h.mu.Lock()
	h.holds = append(h.holds, d)
	gate := h.gate
	h.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (h *holdLog) take() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.holds
	h.holds = nil
	return out
}

func (h *holdLog) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.holds)
}

// TestWrongPasswordsSlowOnlyFailures (row 4): failures against an account make the
// failure answers slower and slower, but the right password is still let in at once.
// Before: five failures locked the account for 15 minutes, from every address.
func TestWrongPasswordsSlowOnlyFailures(t *testing.T) {
	fx := newFixture(t)
	fx.holds.take()
	login := func(user, pw string) int {
		st, _ := fx.do("anonymous", "POST", "/api/login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))
		return st
	}
	for i := 0; i < 25; i++ {
		if st := login("med", "wrong"); st != 401 {
			t.Fatalf("wrong password %d: %d, want 401", i, st)
		}
	}
	holds := fx.holds.take()
	if len(holds) == 0 {
		t.Fatal("25 wrong passwords were never slowed")
	}
	for i := 1; i < len(holds); i++ {
		if holds[i] < holds[i-1] {
			t.Fatalf("holds shrink: %v", holds)
		}
	}
	if holds[len(holds)-1] <= holds[0] {
		t.Errorf("holds do not grow: %v", holds)
	}
	if st := login("med", fixturePassword); st != 200 {
		t.Fatalf("right password after others' failures: %d, want 200", st)
	}
	if h := fx.holds.take(); len(h) != 0 {
		t.Errorf("the right password was held back: %v", h)
	}
	if st := login("lead", fixturePassword); st != 200 {
		t.Fatalf("another account from the same address: %d", st)
	}
}

// TestUnknownCodesNeverRefuseAValidOne (rows 3 and 8): an address that guesses codes
// gets slower failure answers; once too many are waiting it is told 429 with a
// Retry-After that is true: after it, a wrong code is answered 404 again. A valid code
// from the same address (a proxy, a carrier NAT) is let in all along.
func TestUnknownCodesNeverRefuseAValidOne(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	guess := func() (int, http.Header) {
		ctx, cancel := context.WithTimeout(fx.ctx, 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", fx.srv.URL+"/api/join/"+randomCode(16), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for i := 0; i < 30; i++ {
		if st, _ := guess(); st != 404 {
			t.Fatalf("guess %d: %d, want 404", i, st)
		}
	}
	if st, _ := fx.do("party", "GET", "/api/join/"+sc.code, ""); st != 200 {
		t.Fatalf("valid code after 30 wrong ones from the same address: %d, want 200", st)
	}
	if len(fx.holds.take()) == 0 {
		t.Fatal("30 wrong codes were never slowed")
	}

	// Hold the failure answers for real: the address may have maxHeld waiting.
	gate := make(chan struct{})
	fx.holds.mu.Lock()
	fx.holds.gate = gate
	fx.holds.mu.Unlock()
	var wg sync.WaitGroup
	for i := 0; i < fx.svc.join.joinAddr.maxHeld; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); guess() }()
	}
	for deadline := time.Now().Add(10 * time.Second); fx.holds.count() < fx.svc.join.joinAddr.maxHeld; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d answers held", fx.holds.count())
		}
	}
	st, h := guess()
	if st != 429 {
		t.Fatalf("guess with %d answers waiting: %d, want 429", fx.svc.join.joinAddr.maxHeld, st)
	}
	retry, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 8 {
		t.Fatalf("Retry-After %q: want the seconds until the held answers go out (1-8)", h.Get("Retry-After"))
	}
	if st, _ := fx.do("party", "GET", "/api/join/"+sc.code, ""); st != 200 {
		t.Fatalf("valid code while guesses wait: %d, want 200", st)
	}
	close(gate) // the held answers go out, as they would after Retry-After
	wg.Wait()
	fx.holds.mu.Lock()
	fx.holds.gate = nil
	fx.holds.mu.Unlock()
	if st, _ := guess(); st != 404 {
		t.Fatalf("after Retry-After: %d, want 404 (not blocked any more)", st)
	}
}

// TestThrottleForgetsAndBounds: a quiet source starts again from zero, and the number
// of sources remembered is bounded.
func TestThrottleForgetsAndBounds(t *testing.T) {
	th := newThrottle(2, time.Second, 8*time.Second, time.Minute)
	now := time.Unix(1000, 0)
	var got []time.Duration
	for i := 0; i < 7; i++ {
		h, full, _ := th.fail("a", now)
		if full {
			t.Fatal("full without held answers")
		}
		th.release("a")
		got = append(got, h)
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("holds %v, want %v", got, want)
	}
	if h, _, _ := th.fail("a", now.Add(2*time.Minute)); h != 0 {
		t.Errorf("after a quiet minute: hold %v, want 0", h)
	}
	th.release("a")
	th.maxKeys = 100
	for i := 0; i < 500; i++ {
		th.fail(strconv.Itoa(i), now)
		th.release(strconv.Itoa(i))
	}
	if n := th.size(); n > 100 {
		t.Errorf("%d sources remembered, bound 100", n)
	}
	if th.over.Load() == 0 {
		t.Error("the bound was never counted as hit")
	}
	// once quiet, the old ones make room
	th.fail("new", now.Add(2*time.Minute))
	if th.size() > 100 || th.keys["new"] == nil {
		t.Errorf("a new source after the others went quiet was not remembered (size %d)", th.size())
	}
}
