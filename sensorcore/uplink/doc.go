// Package uplink is the sensor's side of the site stream (docs/site.md):
// serve's process collects what the monitoring engine found (assets,
// alerts, capture health, operations) through the engine's socket, puts
// each change in a bounded outbox in the sensor's own store, and
// publishes the outbox in order to the site's NATS JetStream servers
// named by the current generation's uplink.
//
// The monitoring engine never publishes: it reads hostile traffic and
// holds no key. serve does, off its own loop: the uplink's goroutines
// never hold anything the console, the SSH listener or the rollback
// deadline wait on, and a server that is down, slow or refusing costs
// only a growing outbox.
//
// It refuses servers whose certificate does not chain to the CA the
// bundle gave (never the system's roots), and never drops an alert or
// the latest state of an asset to make room: when the outbox is full the
// oldest operations go first, and the next batch says how many.
package uplink
