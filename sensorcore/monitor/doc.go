// Package monitor wires passive OT monitoring together: capture (files or
// live AF_PACKET interfaces) → decode → dissect → inventory and alerts →
// store and syslog. Monitor is what `sensorcore serve` runs and what
// `sensorcore analyze` runs over files; Handler serves the console's
// Devices and Alerts pages and the JSON API behind the console's own
// sign-in (this package does no authentication); Health gives the capture
// line of `sensorcore sanity`.
//
// The pipeline never transmits on a monitored interface and never blocks
// on syslog receivers. State lives under Options.StateDir (see package
// store for how the CLI reads it while the daemon runs).
package monitor
