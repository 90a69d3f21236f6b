package signin

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Policy is how hard a Guard throttles. The zero value of a field takes the
// default named beside it.
type Policy struct {
	FirstDelay time.Duration // 250 ms: the wait after an address's first failure; doubles with each further one
	MaxDelay   time.Duration // 1 minute: the longest wait
	Forget     time.Duration // 15 minutes: an address's failures are forgotten this long after its last
	LockAfter  int           // 5: failures for one account from one address that lock it for that address
	LockFor    time.Duration // 5 minutes: the first such lock; each further one doubles
	MaxLock    time.Duration // 1 hour: the longest lock for one address
	// HardLockAfter failures of one account within HardLockWindow, from any
	// addresses, lock it everywhere for HardLockFor (100, 1 hour,
	// 15 minutes); the Guard's Accounts says which names have accounts.
	// Negative: never.
	HardLockAfter  int
	HardLockWindow time.Duration
	HardLockFor    time.Duration
	MaxWaiting     int           // 4: attempts from one address waiting for their turn
	MaxSources     int           // 4096: addresses remembered; beyond, new ones share one record
	KnownFor       time.Duration // 24 hours: an address that signed in this recently goes first to a worker
}

// Defaults of Policy.
const (
	DefaultFirstDelay     = 250 * time.Millisecond
	DefaultMaxDelay       = time.Minute
	DefaultForget         = 15 * time.Minute
	DefaultLockAfter      = 5
	DefaultLockFor        = 5 * time.Minute
	DefaultMaxLock        = time.Hour
	DefaultHardLockAfter  = 100
	DefaultHardLockWindow = time.Hour
	DefaultHardLockFor    = 15 * time.Minute
	DefaultMaxWaiting     = 4
	DefaultMaxSources     = 4096
	// DefaultKnownFor: an address that signed in within this time goes
	// first when checks wait for a worker.
	DefaultKnownFor = 24 * time.Hour
	// pairForget drops an unlocked account record of an address this long
	// after its last failure (its lock count, so escalation, with it).
	pairForget = time.Hour
	// maxPairs bounds the accounts remembered per address.
	maxPairs = 32
	// maxUserKey bounds a user name used as a key.
	maxUserKey = 64
)

func (p Policy) withDefaults() Policy {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&p.FirstDelay, DefaultFirstDelay)
	def(&p.MaxDelay, DefaultMaxDelay)
	def(&p.Forget, DefaultForget)
	def(&p.LockFor, DefaultLockFor)
	def(&p.MaxLock, DefaultMaxLock)
	def(&p.HardLockWindow, DefaultHardLockWindow)
	def(&p.HardLockFor, DefaultHardLockFor)
	def(&p.KnownFor, DefaultKnownFor)
	if p.LockAfter <= 0 {
		p.LockAfter = DefaultLockAfter
	}
	if p.HardLockAfter == 0 {
		p.HardLockAfter = DefaultHardLockAfter
	}
	if p.MaxWaiting <= 0 {
		p.MaxWaiting = DefaultMaxWaiting
	}
	if p.MaxSources <= 0 {
		p.MaxSources = DefaultMaxSources
	}
	return p
}

// Source is what a Guard counts failures under: the IPv4 address, or the
// IPv6 /64 (a single site may hold a whole /64).
type Source = netip.Prefix

// SourceOf returns the Source of a remote address ("host:port", a bare
// address, or a net.Addr's String). An unreadable address gives the zero
// Source, which all such addresses share.
func SourceOf(addr string) Source {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return Source{}
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// Guard throttles password sign-ins (see the package comment). Its zero
// value is not usable: set Pool, and Now in tests.
type Guard struct {
	Policy Policy
	Pool   *Pool
	Now    func() time.Time
	// Accounts says whether a name is a real account, for the hard lock;
	// nil: none is hard-locked.
	Accounts func(user string) bool

	once     sync.Once
	mu       sync.Mutex
	sources  map[Source]*source
	overflow *source
	accounts map[string]*account
}

// source is what a Guard remembers of one address.
type source struct {
	turn        chan struct{} // one attempt at a time
	waiting     int           // attempts holding or waiting for the turn
	failures    int           // since the last success, forgotten after Forget
	lastFailure time.Time
	until       time.Time // no attempt before
	lastSuccess time.Time
	pairs       map[string]*pair
}

// pair is one account as seen from one address.
type pair struct {
	failures    int
	lastFailure time.Time
	locks       int
	lockedUntil time.Time
}

// account is the hard lock's count for one real account.
type account struct {
	failures    []time.Time
	lockedUntil time.Time
	lockedFor   time.Duration
	lockedAfter int
}

func (g *Guard) init() {
	g.once.Do(func() {
		g.Policy = g.Policy.withDefaults()
		if g.Pool == nil {
			g.Pool = NewPool(0, 0)
		}
		g.sources = map[Source]*source{}
		g.accounts = map[string]*account{}
		g.overflow = newSource()
	})
}

func newSource() *source {
	return &source{turn: make(chan struct{}, 1), pairs: map[string]*pair{}}
}

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Attempt decides one sign-in of user from src: refused at once while src
// is throttled or the account locked (for src, or everywhere), otherwise
// check runs on a Pool worker (the password comparison; it must take as
// long for an unknown user as for a known one) and its answer is counted.
// It returns nil for a good password, ErrBadCredentials, a
// *ThrottledError, a *LockedError (also the answer to the failure that
// locks), ErrBusy, or ctx's error.
func (g *Guard) Attempt(ctx context.Context, src Source, user string, check func() bool) error {
	g.init()
	key := user
	if len(key) > maxUserKey {
		key = key[:maxUserKey]
	}
	g.mu.Lock()
	s := g.source(src, g.now())
	if s.waiting >= g.Policy.MaxWaiting {
		g.mu.Unlock()
		return ErrBusy
	}
	s.waiting++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		s.waiting--
		g.mu.Unlock()
	}()
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.turn }()

	g.mu.Lock()
	now := g.now()
	if err := g.refuse(s, key, now); err != nil {
		g.mu.Unlock()
		return err
	}
	prio := s.priority(now, g.Policy.KnownFor)
	g.mu.Unlock()

	ok := false
	if err := g.Pool.Do(ctx, prio, func() { ok = check() }); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now = g.now()
	if ok {
		s.failures, s.until, s.lastSuccess = 0, time.Time{}, now
		delete(s.pairs, key)
		return nil
	}
	return g.failed(s, key, now)
}

// source returns src's record, making one (or sharing the overflow record
// when the table is full).
func (g *Guard) source(src Source, now time.Time) *source {
	if s, ok := g.sources[src]; ok {
		return s
	}
	if len(g.sources) >= g.Policy.MaxSources {
		g.sweep(now)
		if len(g.sources) >= g.Policy.MaxSources {
			return g.overflow
		}
	}
	s := newSource()
	g.sources[src] = s
	return s
}

// sweep forgets addresses with nothing left to remember.
func (g *Guard) sweep(now time.Time) {
	for k, s := range g.sources {
		g.expire(s, now)
		if s.waiting == 0 && s.failures == 0 && len(s.pairs) == 0 && now.Sub(s.lastSuccess) > g.Policy.KnownFor {
			delete(g.sources, k)
		}
	}
}

// expire forgets failures that are old enough.
func (g *Guard) expire(s *source, now time.Time) {
	if s.failures > 0 && now.Sub(s.lastFailure) > g.Policy.Forget {
		s.failures, s.until = 0, time.Time{}
	}
	for k, p := range s.pairs {
		if now.Before(p.lockedUntil) {
			continue
		}
		if now.Sub(p.lastFailure) > pairForget {
			delete(s.pairs, k)
		} else if now.Sub(p.lastFailure) > g.Policy.Forget {
			p.failures = 0
		}
	}
}

func (g *Guard) refuse(s *source, user string, now time.Time) error {
	g.expire(s, now)
	if a := g.accounts[user]; a != nil && now.Before(a.lockedUntil) {
		return &LockedError{User: user, For: a.lockedFor, Until: a.lockedUntil, Failures: a.lockedAfter, Everywhere: true}
	}
	if now.Before(s.until) {
		return &ThrottledError{Wait: s.until.Sub(now)}
	}
	if p := s.pairs[user]; p != nil && now.Before(p.lockedUntil) {
		return &LockedError{User: user, For: lockFor(g.Policy, p.locks-1), Until: p.lockedUntil, Failures: g.Policy.LockAfter}
	}
	return nil
}

func (s *source) priority(now time.Time, known time.Duration) int {
	if s.failures == 0 && !s.lastSuccess.IsZero() && now.Sub(s.lastSuccess) < known {
		return 0
	}
	return 1 + min(s.failures, 8)
}

func (g *Guard) failed(s *source, user string, now time.Time) error {
	pol := g.Policy
	s.failures++
	s.lastFailure = now
	d := pol.MaxDelay
	if s.failures < 30 {
		d = min(pol.FirstDelay<<(s.failures-1), pol.MaxDelay)
	}
	s.until = now.Add(d)

	var lockErr error
	p := s.pairs[user]
	if p == nil {
		if len(s.pairs) >= maxPairs {
			g.dropOldestPair(s, now)
		}
		p = &pair{}
		s.pairs[user] = p
	}
	p.failures++
	p.lastFailure = now
	if p.failures >= pol.LockAfter {
		lf := lockFor(pol, p.locks)
		p.locks++
		p.failures = 0
		p.lockedUntil = now.Add(lf)
		lockErr = &LockedError{User: user, For: lf, Until: p.lockedUntil, Failures: pol.LockAfter, New: true}
	}

	if pol.HardLockAfter > 0 && g.Accounts != nil && g.Accounts(user) {
		a := g.accounts[user]
		if a == nil {
			a = &account{}
			g.accounts[user] = a
		}
		kept := a.failures[:0]
		for _, t := range a.failures {
			if now.Sub(t) < pol.HardLockWindow {
				kept = append(kept, t)
			}
		}
		a.failures = append(kept, now)
		if len(a.failures) >= pol.HardLockAfter {
			a.lockedUntil, a.lockedFor, a.lockedAfter = now.Add(pol.HardLockFor), pol.HardLockFor, len(a.failures)
			a.failures = nil
			return &LockedError{User: user, For: pol.HardLockFor, Until: a.lockedUntil, Failures: a.lockedAfter, Everywhere: true, New: true}
		}
	}
	if lockErr != nil {
		return lockErr
	}
	return ErrBadCredentials
}

// dropOldestPair makes room in s.pairs: the unlocked record failed on
// longest ago goes; when all are locked, the one whose lock ends first.
func (g *Guard) dropOldestPair(s *source, now time.Time) {
	var oldest string
	var at time.Time
	for k, p := range s.pairs {
		t := p.lastFailure
		if now.Before(p.lockedUntil) {
			t = p.lockedUntil.Add(pairForget) // locked ones last
		}
		if oldest == "" || t.Before(at) {
			oldest, at = k, t
		}
	}
	delete(s.pairs, oldest)
}

func lockFor(p Policy, locks int) time.Duration {
	if locks < 0 {
		locks = 0
	}
	if locks >= 20 {
		return p.MaxLock
	}
	return min(p.LockFor<<locks, p.MaxLock)
}

// Clear forgets every failure, delay and lock that user's failures caused,
// from every address and the hard lock (an unlock or a reset at the
// appliance).
func (g *Guard) Clear(user string) {
	g.init()
	if len(user) > maxUserKey {
		user = user[:maxUserKey]
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.accounts, user)
	for _, s := range append(mapValues(g.sources), g.overflow) {
		if _, ok := s.pairs[user]; ok {
			delete(s.pairs, user)
			s.failures, s.until = 0, time.Time{}
		}
	}
}

func mapValues(m map[Source]*source) []*source {
	out := make([]*source, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	return out
}

// Sources is how many addresses the Guard remembers (for tests and the
// console's health list).
func (g *Guard) Sources() int {
	g.init()
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sources)
}
