package netconf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tapline/tapline/internal/safefile"
)

// MaxHostnameLen is the longest host name Linux holds (HOST_NAME_MAX) and
// the longest static host name systemd-hostnamed stores.
const MaxHostnameLen = 64

// HostnameFile is where a file backend keeps the host name, relative to the
// root: /etc/hostname on an appliance.
const HostnameFile = "etc/hostname"

// setSystemHostname sets the appliance's host name the way its own tools
// would. On a real appliance (root "/") it asks systemd-hostnamed
// (hostnamectl set-hostname), which writes /etc/hostname and sets the
// running kernel's name; the daemon's unit keeps /etc read-only for
// sensorcore itself, and hostnamed does the write. Under any other root it
// writes R/etc/hostname only.
func setSystemHostname(ctx context.Context, root, name string) error {
	name = strings.TrimSuffix(name, ".")
	if filepath.Clean(root) != "/" {
		p := filepath.Join(root, HostnameFile)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return safefile.WriteFile(p, []byte(name+"\n"), 0o644)
	}
	out, err := exec.CommandContext(ctx, "hostnamectl", "set-hostname", name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("netconf: hostnamectl set-hostname %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// LiveHostname is the running kernel's host name, as the backends set it.
func LiveHostname() (string, error) {
	return os.Hostname()
}

// HostnameMatches reports whether the live host name is the configured one
// (case-insensitive, a trailing dot ignored).
func HostnameMatches(live, configured string) bool {
	return strings.EqualFold(strings.TrimSuffix(live, "."), strings.TrimSuffix(configured, "."))
}
