package daemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapline/tapline/internal/safefile"
)

// UnitFile is where the systemd unit for sensorcore serve lives, relative
// to the root.
const UnitFile = "etc/systemd/system/sensorcore.service"

// SystemdUnit is the unit that runs sensorcore serve from the binary at
// target (docs/appliance.md shows it for /usr/local/bin/sensorcore): the
// daemon confined to its own directories and the network configuration it
// writes, with only the capabilities it uses.
func SystemdUnit(target, root string) string {
	exec := target + " serve --console-listen :443"
	if filepath.Clean(root) != "/" {
		exec += " --root " + root
	}
	return `[Unit]
Description=Tapline sensorcore: HTTPS console, provisioning, monitoring
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=` + exec + `
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec=2
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=/etc/sensorcore /var/lib/sensorcore
ReadWritePaths=-/etc/netplan -/run/netplan -/etc/systemd/network -/run/systemd/network
CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_OVERRIDE CAP_CHOWN CAP_FOWNER CAP_SETUID CAP_SETGID

[Install]
WantedBy=multi-user.target
`
}

// ServiceResult says what InstallService did.
type ServiceResult struct {
	Unit    string `json:"unit"`    // the unit file written
	Started bool   `json:"started"` // systemd runs the daemon now
	Note    string `json:"note,omitempty"`
}

// InstallService prepares a first install: the sensor's directories (0700)
// and the systemd unit for the binary at target. On an appliance (root "/")
// booted with systemd it enables and starts the unit and waits until the
// daemon has written run.json. Anywhere else it says how to start the
// daemon; nothing is started.
func (e *Engine) InstallService(ctx context.Context, target string) (ServiceResult, error) {
	l := e.Layout
	var res ServiceResult
	for _, d := range []string{l.Etc(), l.State(), l.Incoming()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return res, err
		}
	}
	res.Unit = filepath.Join(l.Root, UnitFile)
	if err := os.MkdirAll(filepath.Dir(res.Unit), 0o755); err != nil {
		return res, err
	}
	if err := safefile.WriteFile(res.Unit, []byte(SystemdUnit(target, l.Root)), 0o644); err != nil {
		return res, err
	}
	if filepath.Clean(l.Root) != "/" {
		res.Note = fmt.Sprintf("the root is %s, not /: the unit was written there and nothing was started; start the daemon with: %s serve --root %s", l.Root, target, l.Root)
		return res, nil
	}
	if err := ensureMonitorUser(ctx); err != nil {
		return res, err
	}
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		res.Note = fmt.Sprintf("this appliance does not run systemd: start the daemon with its own service manager: %s serve --console-listen :443", target)
		return res, nil
	}
	for _, c := range [][]string{{"systemctl", "daemon-reload"}, {"systemctl", "enable", "--now", "sensorcore.service"}} {
		out, err := exec.CommandContext(ctx, c[0], c[1:]...).CombinedOutput()
		if err != nil {
			return res, fmt.Errorf("%s: %v: %s", strings.Join(c, " "), err, strings.TrimSpace(string(out)))
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ok := l.DaemonAlive(); ok {
			res.Started = true
			return res, nil
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("systemd started sensorcore.service but the daemon wrote no %s within 20 s: see journalctl -u sensorcore", l.RunFile())
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureMonitorUser makes the system user the monitoring engine runs as
// (sensorcore-monitor: no home, no shell, no password) when it is missing.
func ensureMonitorUser(ctx context.Context) error {
	if _, err := user.Lookup(DefaultMonitorUser); err == nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
		"--shell", "/usr/sbin/nologin", "--comment", "sensorcore monitoring engine", DefaultMonitorUser).CombinedOutput()
	if err != nil {
		return fmt.Errorf("useradd %s: %v: %s", DefaultMonitorUser, err, strings.TrimSpace(string(out)))
	}
	return nil
}
