//go:build !linux

package validate

import "errors"

// ReadClock has no kernel clock state to read off Linux.
func ReadClock() (ClockState, error) {
	return ClockState{}, errors.New("the clock's synchronisation is read on Linux only")
}
