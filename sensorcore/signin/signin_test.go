package signin

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newGuard() (*Guard, *clock) {
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	return &Guard{Now: clk.now, Pool: NewPool(1, 0), Accounts: func(u string) bool { return u == "admin" || u == "support" }}, clk
}

var (
	addrA = SourceOf("127.0.0.2:5000")
	addrB = SourceOf("127.0.0.3:5000")
)

func try(g *Guard, src Source, user string, good bool) error {
	return g.Attempt(context.Background(), src, user, func() bool { return good })
}

func TestSourceOf(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.2:5000":                "127.0.0.2/32",
		"[::ffff:192.0.2.7]:22":         "192.0.2.7/32",
		"[2001:db8:1:2:3:4:5:6]:443":    "2001:db8:1:2::/64",
		"[fe80::1%eth0]:22":             "fe80::/64",
		"2001:db8:1:2:ffff:4:5:6":       "2001:db8:1:2::/64",
		"192.0.2.1":                     "192.0.2.1/32",
		"not an address":                "invalid Prefix",
		"[2001:db8:1:2:3:4:5:6]:xyzzy:": "invalid Prefix",
	} {
		if got := SourceOf(in).String(); got != want {
			t.Errorf("SourceOf(%q) = %s, want %s", in, got, want)
		}
	}
}

// Each failure from an address makes its next attempt wait longer; the
// attempt during the wait is refused without its password being looked at.
func TestGrowingDelays(t *testing.T) {
	g, clk := newGuard()
	checked := 0
	check := func() bool { checked++; return false }
	for i, want := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second} {
		if err := g.Attempt(context.Background(), addrA, fmt.Sprintf("user%d", i), check); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		var te *ThrottledError
		err := g.Attempt(context.Background(), addrA, "admin", func() bool { t.Fatal("checked while throttled"); return true })
		if !errors.As(err, &te) || te.Wait != want {
			t.Fatalf("after failure %d: %v, want a wait of %v", i+1, err, want)
		}
		clk.add(want)
	}
	if checked != 4 {
		t.Fatalf("checked %d times", checked)
	}
	// Another address is not slowed at all.
	if err := try(g, addrB, "admin", true); err != nil {
		t.Fatalf("other address: %v", err)
	}
	// The cap.
	for i := range 20 {
		clk.add(DefaultMaxDelay)
		try(g, addrA, fmt.Sprint("nobody", i), false)
	}
	var te *ThrottledError
	if err := try(g, addrA, "admin", true); !errors.As(err, &te) || te.Wait != DefaultMaxDelay {
		t.Fatalf("after many failures: %v", err)
	}
	// A success resets the address's delay.
	clk.add(DefaultMaxDelay)
	if err := try(g, addrA, "support", true); err != nil {
		t.Fatal(err)
	}
	if err := try(g, addrA, "support", true); err != nil {
		t.Fatalf("after a success: %v", err)
	}
}

// Five failures for one account from one address lock it for that address
// only; the lock grows with each repetition and ends by itself.
func TestLockIsPerAddress(t *testing.T) {
	g, clk := newGuard()
	fail := func(src Source) error {
		clk.add(DefaultMaxDelay) // past any delay
		return try(g, src, "admin", false)
	}
	for i := 1; i <= 4; i++ {
		if err := fail(addrA); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	var le *LockedError
	if err := fail(addrA); !errors.As(err, &le) || le.Everywhere || le.For != 5*time.Minute || le.Error() !=
		"signin: account locked for 5 minutes after 5 failed sign-ins from this address; try again later" {
		t.Fatalf("fifth failure: %v", err)
	}
	clk.add(DefaultMaxDelay)
	if err := try(g, addrA, "admin", true); !errors.As(err, &le) {
		t.Fatalf("the right password from the locked address: %v", err)
	}
	// The administrator at another address signs in.
	if err := try(g, addrB, "admin", true); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// Another account from the locked address is only delayed.
	if err := try(g, addrA, "support", true); err != nil {
		t.Fatalf("another account from the address: %v", err)
	}
	clk.add(5 * time.Minute)
	if err := try(g, addrA, "admin", true); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// A success forgets the account's failures from that address.
	for i := 1; i <= 4; i++ {
		if err := fail(addrA); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d after a success: %v", i, err)
		}
	}
	// Without one, each further lock lasts twice as long.
	if err := fail(addrA); !errors.As(err, &le) || le.For != 5*time.Minute {
		t.Fatalf("first lock: %v", err)
	}
	clk.add(5 * time.Minute)
	for i := 1; i <= 4; i++ {
		fail(addrA)
	}
	if err := fail(addrA); !errors.As(err, &le) || le.For != 10*time.Minute {
		t.Fatalf("second lock: %v", err)
	}
	clk.add(9 * time.Minute)
	if err := try(g, addrA, "admin", true); !errors.As(err, &le) {
		t.Fatalf("during the second lock: %v", err)
	}
}

// An attacker at one address, trying as fast as the guard lets it, gets at
// most about 20 password checks an hour on one account, far from the 100
// that lock the account everywhere.
func TestOneAddressCannotHardLock(t *testing.T) {
	g, clk := newGuard()
	checks := 0
	start := clk.now()
	for clk.now().Sub(start) < time.Hour {
		err := g.Attempt(context.Background(), addrA, "admin", func() bool { checks++; return false })
		var le *LockedError
		if errors.As(err, &le) && le.Everywhere {
			t.Fatalf("one address locked the account everywhere after %d checks", checks)
		}
		if d, ok := RetryAfter(err, clk.now()); ok {
			clk.add(d)
		}
	}
	if checks > 25 {
		t.Fatalf("one address got %d checks in an hour", checks)
	}
	if err := try(g, addrB, "admin", true); err != nil {
		t.Fatalf("the administrator elsewhere: %v", err)
	}
}

// The last resort: failures from many addresses lock the account everywhere
// for a limited time; Clear (unlock, reset) ends it; names that are not
// accounts are never hard-locked.
func TestHardLock(t *testing.T) {
	g, clk := newGuard()
	var le *LockedError
	n := 0
	for i := 0; n < DefaultHardLockAfter; i++ {
		src := SourceOf(fmt.Sprintf("127.0.%d.%d:1", i/200, 2+i%200))
		for j := 0; j < 4 && n < DefaultHardLockAfter; j++ {
			clk.add(5 * time.Second)
			err := try(g, src, "admin", false)
			try(g, src, "ghost", false)
			n++
			if n < DefaultHardLockAfter && errors.As(err, &le) && le.Everywhere {
				t.Fatalf("hard lock after %d failures", n)
			}
			if n == DefaultHardLockAfter && (!errors.As(err, &le) || !le.Everywhere || le.For != 15*time.Minute) {
				t.Fatalf("failure %d: %v", n, err)
			}
		}
	}
	if err := try(g, SourceOf("127.9.9.9:1"), "admin", true); !errors.As(err, &le) || !le.Everywhere {
		t.Fatalf("clean address during the hard lock: %v", err)
	}
	if err := try(g, SourceOf("127.9.9.9:1"), "ghost", false); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a name with no account: %v", err)
	}
	g.Clear("admin")
	if err := try(g, SourceOf("127.9.9.8:1"), "admin", true); err != nil {
		t.Fatalf("after Clear: %v", err)
	}
	// It also ends by itself.
	g2, clk2 := newGuard()
	g2.Policy.HardLockAfter = 3
	for i := range 3 {
		try(g2, SourceOf(fmt.Sprintf("127.0.0.%d:1", 10+i)), "support", false)
	}
	if err := try(g2, addrA, "support", true); !errors.As(err, &le) || !le.Everywhere {
		t.Fatalf("hard lock: %v", err)
	}
	clk2.add(DefaultHardLockFor)
	if err := try(g2, addrA, "support", true); err != nil {
		t.Fatalf("after the hard lock's time: %v", err)
	}
}

// Sixteen attempts at once from one address: one password check, the rest
// refused (busy or throttled) without one.
func TestParallelFromOneAddress(t *testing.T) {
	g := &Guard{Pool: NewPool(2, 0)}
	var checks atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- g.Attempt(context.Background(), addrA, "admin", func() bool {
				checks.Add(1)
				time.Sleep(30 * time.Millisecond)
				return false
			})
		}()
	}
	wg.Wait()
	close(errs)
	kinds := map[string]int{}
	for err := range errs {
		var te *ThrottledError
		switch {
		case errors.Is(err, ErrBadCredentials):
			kinds["bad"]++
		case errors.As(err, &te):
			kinds["throttled"]++
		case errors.Is(err, ErrBusy):
			kinds["busy"]++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	if checks.Load() != 1 || kinds["bad"] != 1 || kinds["throttled"] != DefaultMaxWaiting-1 || kinds["busy"] != 16-DefaultMaxWaiting {
		t.Fatalf("%d checks; answers %v", checks.Load(), kinds)
	}
}

// Waiting checks are served best first: an address that signed in before,
// then clean ones, then ones with failures.
func TestPoolPriority(t *testing.T) {
	p := NewPool(1, 0)
	hold := make(chan struct{})
	started := make(chan struct{})
	go p.Do(context.Background(), 1, func() { close(started); <-hold })
	<-started
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for k, prio := range []int{5, 1, 0, 3} {
		wg.Add(1)
		go p.Do(context.Background(), prio, func() { mu.Lock(); order = append(order, prio); mu.Unlock(); wg.Done() })
		waitQueued(p, k+1) // queued before the next one arrives
	}
	close(hold)
	wg.Wait()
	if fmt.Sprint(order) != "[0 1 3 5]" {
		t.Fatalf("order %v", order)
	}
	// A cancelled wait leaves the queue; a full queue refuses.
	p2 := NewPool(1, 1)
	hold2 := make(chan struct{})
	go p2.Do(context.Background(), 0, func() { <-hold2 })
	for {
		p2.mu.Lock()
		busy := p2.free == 0
		p2.mu.Unlock()
		if busy {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p2.Do(ctx, 0, func() { t.Error("ran after cancel") }) }()
	waitQueued(p2, 1)
	if err := p2.Do(context.Background(), 0, func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("full queue: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	close(hold2)
	if err := p2.Do(context.Background(), 0, func() {}); err != nil {
		t.Fatalf("after: %v", err)
	}
}

func waitQueued(p *Pool, n int) {
	for {
		p.mu.Lock()
		q := len(p.waiting)
		p.mu.Unlock()
		if q == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// The guard remembers a bounded number of addresses: a flood from many
// addresses shares one record past the bound instead of growing memory.
func TestBoundedSources(t *testing.T) {
	g, clk := newGuard()
	g.Policy.MaxSources = 100
	for i := range 1000 {
		a := netip.AddrFrom4([4]byte{127, 1, byte(i >> 8), byte(i)})
		try(g, netip.PrefixFrom(a, 32), "admin", false)
	}
	if n := g.Sources(); n != 100 {
		t.Fatalf("%d sources remembered", n)
	}
	// Once their failures are forgotten, new addresses get records again.
	clk.add(2 * time.Hour)
	try(g, SourceOf("127.2.0.1:1"), "admin", true)
	if n := g.Sources(); n != 1 {
		t.Fatalf("after forgetting: %d sources", n)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{250 * time.Millisecond: "1 second", 2 * time.Second: "2 seconds",
		5 * time.Minute: "5 minutes", 90 * time.Second: "2 minutes", time.Hour: "1 hour", 2 * time.Hour: "2 hours", time.Minute: "1 minute"} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}
