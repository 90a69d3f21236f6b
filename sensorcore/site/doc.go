// Package site is the contract of the site stream (docs/site.md): how a
// sensor names its subjects on NATS JetStream, the streams a site's
// servers hold, and the JSON of every message a sensor publishes there.
// Both sides use it: sensorcore's uplink publishes with it, and the
// laptop's `tapline site` commands and Site screen read with it, so it
// holds formats only, never the appliance.
//
// It refuses names that cannot be subject tokens (a site name with a dot
// or a wildcard would let one sensor's subjects match another's) and
// never guesses: every name is checked or encoded, every message's type
// is checked before its fields are read.
package site
