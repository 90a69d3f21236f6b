package netconf

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// setKernelHostname sets the host name of the UTS namespace the process
// runs in (what hostname(1) and uname -n show), as the iproute backend
// changes the live interface and nothing on disk.
func setKernelHostname(name string) error {
	name = strings.TrimSuffix(name, ".")
	if len(name) > MaxHostnameLen {
		return fmt.Errorf("netconf: host name %q is longer than %d characters", name, MaxHostnameLen)
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("netconf: setting the host name to %s: %v (sensorcore needs CAP_SYS_ADMIN for the iproute backend's host name)", name, err)
		}
		return fmt.Errorf("netconf: setting the host name to %s: %v", name, err)
	}
	return nil
}
