// Package sshconn opens SSH connections to sensors and decides whether to
// trust them: the connect and trust steps of a push (issue 4, steps 1 and 2).
//
// Authentication is by password, private key file (an encrypted key asks its
// passphrase through a callback) or ssh-agent (SSH_AUTH_SOCK), optionally
// through a jump host (OpenSSH's ProxyJump). Every dial has a timeout covering
// TCP connect and the SSH handshake, and keepalives detect a dead peer.
//
// Host trust uses an OpenSSH known_hosts file through github.com/skeema/knownhosts:
// HostKeyAlgorithms is taken from the known entries so a host known by its
// ed25519 key is not reported as changed when it also offers RSA
// (golang/go#29286). An unknown host fails with *UnknownHostError carrying
// the key's SHA256 fingerprint unless the caller's Accept callback says yes,
// which appends the key to known_hosts. A changed key fails with
// *HostKeyChangedError and nothing overrides it. Pinned trusts exactly one key
// whatever the address, for reconnecting to a sensor at its new address.
//
// SSHConfig reads the user's ~/.ssh/config (%USERPROFILE%\.ssh\config on
// Windows) as ssh -G resolves it: what a caller leaves empty comes from the
// matching Host and Match blocks (HostName, User, Port, IdentityFile,
// UserKnownHostsFile, IdentitiesOnly). It refuses, with the file and line,
// what it would not carry out: ProxyJump, ProxyCommand, StrictHostKeyChecking
// no, a known_hosts that keeps nothing, a token it does not expand, and a
// Match block it cannot decide (exec, canonical...) that sets any of those.
//
// The package refuses InsecureIgnoreHostKey in every form.
package sshconn
