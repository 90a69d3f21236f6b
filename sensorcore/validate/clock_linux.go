package validate

import (
	"time"

	"golang.org/x/sys/unix"
)

// ReadClock asks the kernel (adjtimex) whether NTP synchronises the clock:
// not when its state is TIME_ERROR or STA_UNSYNC is set.
func ReadClock() (ClockState, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return ClockState{}, err
	}
	return ClockState{Synchronised: state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0,
		MaxError: time.Duration(tx.Maxerror) * time.Microsecond}, nil
}
