//go:build !linux

package netconf

import "fmt"

// setKernelHostname is Linux's alone: the appliance runs Linux, and the
// laptop builds of this package (settings, validation, renderers) never
// set a host name.
func setKernelHostname(name string) error {
	return fmt.Errorf("netconf: setting the host name to %s: only the Linux appliance sets its host name", name)
}
