// Package sshdtest starts a real OpenSSH sshd (Debian's openssh-server) for
// tests: on 127.0.0.1 at a free high port, with its own sshd_config, host keys
// and authorized_keys in a temporary directory. It never touches /etc/ssh.
//
// It refuses to run as anything but root (sshd needs it to switch users) and
// skips the calling test with a sentence saying so; it also skips when
// /usr/sbin/sshd or ssh-keygen is missing. Under CI=true each of those fails
// the test instead (internal/needs).
package sshdtest
