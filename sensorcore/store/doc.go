// Package store keeps the monitor's state (assets, alerts, baseline) in one
// bbolt file, monitor.db, under the directory the daemon gives it
// (<root>/var/lib/sensorcore/monitor on the appliance), so the inventory
// survives restarts.
//
// Concurrency: bbolt allows one writer and takes an exclusive file lock for
// as long as a read-write handle is open. The daemon therefore never keeps
// the file open: Save opens it, writes one transaction and closes it, and
// Load opens it read-only with a timeout. `sensorcore inventory` and
// `sensorcore alerts` can thus read while the daemon runs; at worst they
// wait for one save to finish. The package refuses to invent state: a
// missing file is an empty state, a corrupt one is an error naming it.
package store
