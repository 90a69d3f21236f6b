// Package safefile writes files atomically and reads them with a size
// limit, the two ways Tapline touches files that matter: keys, known_hosts,
// the appliance's state and configuration, reports.
//
// WriteFile and Write never leave a half-written file under the final
// name: the content goes to a temporary file with a unique name in the same
// directory, created private, given its final mode while still empty, then
// written, fsynced and closed, renamed over the final name, and the
// directory is fsynced so the rename survives a power cut. On any error the
// temporary file is removed and the file that was there stays as it was.
//
// ReadFile refuses a file larger than the limit its caller states, before
// reading it, so an attacker who can make a file huge (a sparse upload)
// cannot make its reader exhaust memory.
//
// A private file (mode 0600 or stricter) is private on Windows too, where
// modes mean nothing: it gets an ACL that grants the current user alone,
// inheriting nothing from its folder; MkdirPrivate does the same for a
// folder and what is created in it.
//
// The package builds on every platform the laptop runs (Windows, macOS,
// Linux): it uses no file locks and nothing Unix-only; on Windows, where a
// directory cannot be fsynced, SyncDir does nothing.
package safefile
