//go:build !linux

package fleettest

import "testing"

// HostSubnets: the tests that need it build Linux network namespaces,
// which other systems do not have.
func HostSubnets(t testing.TB, n int) []string {
	t.Helper()
	t.Skip("network namespaces and veth pairs are Linux's; the Linux run covers this test")
	return nil
}
