// Package provision takes checked bundles to sensors over SSH/SFTP: one push
// setup (Session), the per-sensor push state machine and the batch runner.
//
// A Session is what the CLI, the app's wizard and its Fleet tab share:
// known_hosts and the trust policy for first contacts, the secrets (memory
// only), the offline check. It builds each bundle in memory and streams it
// to the sensor, so no unencrypted private key touches the laptop's disk.
//
// A push (Push) runs one ordered list of steps (Options.Steps: connect,
// trust, [install-core,] preflight, upload, apply, reconnect+confirm and
// verify; the faces take their labels from it) against the appliance contract (sensorcore
// apply/confirm/status --json over SSH exec, uploads into the incoming
// directory), emitting Events (sensor, step, percent, bytes, message) that
// the GUI and CLI render; it knows nothing of either. It is "done" only once
// the console at the final address serves the bundle's certificate (exact
// SHA-256 pinning) and the sensor, asked over SSH (status), says it is that
// sensor, activated, serving that certificate. A sensor moved to an
// address the laptop cannot reach is left to roll back by itself and is then
// reported "rolled_back" after checking it answers on its old generation.
//
// A batch (RunBatch) reads an inventory CSV (docs/inventory.md), checks it
// offline first (Check), pushes with bounded concurrency, an optional
// canary stage, retries with backoff for transient faults only, a JSON-lines
// journal for --resume, and writes JSON, CSV and HTML reports and a retry
// inventory.
//
// It refuses: InsecureIgnoreHostKey in any form (see sshconn), overriding a
// changed host key, writing anything to a sensor whose identity, version or
// free space does not fit (preflight), and leaving a partial upload apply
// could pick up (only *.part names until the final rename).
package provision
