//go:build !linux

package capture

import (
	"context"
	"errors"
)

// Live is only available on Linux.
type Live struct{ Name string }

// OpenLive fails: AF_PACKET exists only on Linux.
func OpenLive(iface string, o LiveOptions) (*Live, error) {
	return nil, errors.New("capture: live capture needs Linux AF_PACKET")
}

// NextContext never returns packets.
func (l *Live) NextContext(ctx context.Context) ([]byte, Info, error) {
	return nil, Info{}, errors.New("capture: live capture needs Linux")
}

// Drops is always 0.
func (l *Live) Drops() uint64 { return 0 }

// Close does nothing.
func (l *Live) Close() error { return nil }
