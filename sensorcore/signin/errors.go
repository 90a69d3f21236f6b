package signin

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadCredentials is a refused user name and password pair; it never says
// which of the two was wrong.
var ErrBadCredentials = errors.New("signin: wrong user name or password")

// ErrBusy refuses an attempt when too many are already waiting, from one
// address or in all.
var ErrBusy = errors.New("signin: too many sign-ins at once; try again in a moment")

// ThrottledError refuses an attempt from an address that failed recently,
// before its password is looked at.
type ThrottledError struct {
	Wait time.Duration // until the address may try again
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("signin: too many failed sign-ins from this address; try again in %s", Human(e.Wait))
}

// LockedError refuses an account: for the address that failed on it five
// times (Everywhere false), or everywhere (the last resort, after failures
// from many addresses).
type LockedError struct {
	User       string
	For        time.Duration // the lock's length
	Until      time.Time
	Failures   int // that set the lock (0 when not known)
	Everywhere bool
	New        bool // this attempt's failure set the lock
}

func (e *LockedError) Error() string {
	if e.Everywhere {
		return fmt.Sprintf("signin: account locked for %s after failed sign-ins from many addresses; 'sensorcore console unlock %s' at the appliance ends it sooner",
			Human(e.For), e.User)
	}
	return fmt.Sprintf("signin: account locked for %s after %d failed sign-ins from this address; try again later", Human(e.For), e.Failures)
}

// RetryAfter is how long the refusal holds at now, at least a second.
func RetryAfter(err error, now time.Time) (time.Duration, bool) {
	var te *ThrottledError
	var le *LockedError
	switch {
	case errors.As(err, &te):
		return max(te.Wait, time.Second), true
	case errors.As(err, &le):
		return max(le.Until.Sub(now), time.Second), true
	case errors.Is(err, ErrBusy):
		return time.Second, true
	}
	return 0, false
}

// Human writes a duration the way a person says it: "5 minutes", "1 hour",
// "3 seconds" (rounded up to whole seconds below a minute and whole minutes
// above).
func Human(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d <= 0:
		return "0 seconds"
	case d < time.Minute:
		return unit(int64((d+time.Second-1)/time.Second), "second")
	case d < time.Hour || d%time.Hour != 0:
		return unit(int64((d+time.Minute-1)/time.Minute), "minute")
	}
	return unit(int64(d/time.Hour), "hour")
}
