package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tapline/tapline/provision/sshconn"
)

// ConsoleUsers are the privileged console accounts a reset can recover.
var ConsoleUsers = []string{"admin", "support"}

// ConsoleReset is `sensorcore console reset --json`: the one-time password
// a privileged console account was given.
type ConsoleReset struct {
	OK         bool   `json:"ok"`
	User       string `json:"user"`
	Password   string `json:"password"` // the one-time password: show it, never log it
	MustChange bool   `json:"must_change"`
	Error      string `json:"error"`
}

// ResetConsoleUser recovers access to a privileged console account (admin
// or support) of row's sensor, the one way to do it remotely: over the
// provisioning SSH channel (the host key verified with the session's
// trust, the row's authentication), `sensorcore console reset --user USER`
// gives the account a one-time password that must be changed at its next
// sign-in, ends the account's console sessions and clears its sign-in
// throttling and lock. The sensor records the reset, with the account and
// address it came from, in its account log. The password is only in the
// result.
func (s *Session) ResetConsoleUser(ctx context.Context, row Row, user string) (ConsoleReset, error) {
	s.init()
	res := ConsoleReset{User: user}
	known := false
	for _, u := range ConsoleUsers {
		known = known || u == user
	}
	if !known {
		return res, fmt.Errorf("provision: console reset: %q is not a privileged console account: use %s", user, strings.Join(ConsoleUsers, " or "))
	}
	t, err := s.target(row)
	if err != nil {
		return res, err
	}
	o := s.Options(nil)
	so := o.SSH
	if t.Jump != nil {
		so.Jump, so.JumpTrust = t.Jump, o.Trust
	}
	trust := o.Trust
	if t.Trust != nil {
		trust = t.Trust
	}
	c, err := sshconn.Dial(ctx, sshconn.Endpoint{Addr: t.Addr, User: t.User, Auth: t.Auth}, trust, so)
	if err != nil {
		return res, err
	}
	defer c.Close()
	core := o.Core
	if core == "" {
		core = "sensorcore"
	}
	err = runJSON(ctx, c.Client, core, &res, "console", "reset", "--user", user, "--json")
	var re *RemoteError
	if errors.As(err, &re) && re.Exit == 2 && strings.Contains(re.Message, "not allowed") {
		return res, fmt.Errorf("provision: console reset: the sensor's sensorcore refuses it (%s): bring sensorcore up to date first (tapline push --install-core)", re.Message)
	}
	if err != nil {
		return res, err
	}
	if !res.OK || res.Password == "" {
		return res, &RemoteError{Command: "console reset", Exit: 1, Message: res.Error}
	}
	return res, nil
}
