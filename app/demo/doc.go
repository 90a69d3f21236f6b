// Package demo runs Tapline's demo fleet on this machine: a few
// `sensorcore serve` processes on 127.0.0.1, each with its own temporary
// root, embedded SSH listener and HTTPS console, plus the material a
// newcomer provisions them with: a demo activation authority (a lab root
// that the demo sensors alone trust), a demo local CA, their activation
// files and certificates, and an inventory CSV. It is pure Go (no GUI) so
// `tapline demo`, `make run` and the GUI tests share it.
//
// It drives the sensorcore binary and links none of the appliance's code:
// it writes a sensor's config.json and ssh_passwords and reads its run.json
// as docs/appliance.md describes them. The desktop app learns of the fleet
// only through the preset the fleet hands it (Fleet.Preset).
//
// It refuses to run anything but loopback listeners, and Stop ends every
// process it started. The demo secrets (SSH password, CA passphrase) are
// demo values printed for the newcomer; no real secret passes through here.
package demo
