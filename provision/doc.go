// Package provision takes checked bundles to sensors over SSH/SFTP: host
// trust, the per-sensor push state machine and the batch runner. It emits
// progress events and knows nothing of widgets or terminals.
package provision
