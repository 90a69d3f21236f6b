// Package sshd is sensorcore's embedded SSH provisioning listener
// (golang.org/x/crypto/ssh with github.com/pkg/sftp's request server): a
// persistent Ed25519 host key, password (bcrypt file) or authorized-keys
// sign-in, SFTP confined to the incoming directory ("/" is that directory;
// os.Root refuses every path, "..", or symlink that leads out), and exec
// limited to the provisioning commands (AllowedCommand). It refuses shells,
// port forwarding and every other request.
//
// Password sign-ins are throttled per source address (package signin), an
// unknown user costs the same time as a known one, and at most
// MaxUnauthenticated connections (MaxUnauthenticatedPerSource from one
// address) may be signing in at once; beyond, a new one is closed at once.
package sshd
