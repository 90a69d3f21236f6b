// Package generation keeps a sensor's applied configurations as numbered
// generations under var/lib/sensorcore/generations, one directory each,
// with a "current" symlink switched atomically (new directory, fsync,
// rename of a new symlink over the old), the pending-confirmation record
// with its rollback deadline (pending.json), and the record of the last
// rollback (last-rollback.json). Every write is a new file renamed into
// place, so a crash at any point leaves the old or the new state, never a
// mix; Clean removes what an interrupted write left behind.
//
// It does not check what it stores: callers (apply) check first.
package generation
