// Package daemon is the appliance's engine: where its files live under a
// root (Layout), its configuration (etc/sensorcore/config.json), and the
// provisioning operations apply, confirm, rollback, status and sanity, plus
// the daemon's tick that enforces the persisted rollback deadline and
// re-applies a generation's network after a crash.
//
// Apply re-runs the laptop's checks (bundle hashes, settings validation,
// activation.Check, certs.CheckSensor, CRL fetch when validation is on) and
// changes nothing unless every check passes; then it writes generation N+1
// atomically (generation package), arms the rollback deadline when the
// address settings change, switches the current pointer, applies the
// network through a netconf backend and signals the daemon to reload. It
// writes no certificate rule of its own.
package daemon
