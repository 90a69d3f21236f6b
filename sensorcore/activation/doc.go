// Package activation reads, issues and verifies Tapline's signed activation
// files (docs/formats.md, "Activation file").
//
// A file is a JSON envelope holding a payload (sensor identity, site, zone,
// management mode, plan, device count, issue and upload-by dates, expiry for
// locally managed sensors) signed with an Ed25519 signing key, and that
// signing key's certificate signed by an Ed25519 root. The roots a verifier
// trusts are a parameter: the production root shipped in assets by default,
// a test or demo root in tests and labs.
//
// The package refuses: files not under a trusted root, files for another
// sensor, files uploaded more than 14 days after issue, expired locally
// managed files, a management mode other than the one asked for, and any
// malformed input. It never holds or reads the production root's private key.
package activation
