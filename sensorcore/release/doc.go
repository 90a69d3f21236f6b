// Package release signs and verifies sensorcore releases: the detached
// signature (".sig", docs/formats.md "Release signature") that
// `sensorcore install-core` checks before it installs an uploaded binary,
// and that `tapline push --install-core` sends with it.
//
// A signature is a signed statement (product, version, OS and
// architecture, SHA-256 and size of the binary, whether it may replace a
// newer version) made with a release signing key, and that key's
// certificate signed by a root of trust: the same roots as activation files
// (assets/activation-root.pub in production), with its own domain
// separation, so a release key can never sign activation files and an
// activation signing key can never sign releases.
//
// The package refuses: signatures not under a trusted root, statements
// altered after signing, statements made outside the signing key's
// validity, statements for another product, OS or architecture, sizes over
// MaxBinarySize, and anything malformed. It never runs a binary to learn
// its version: the version is what the signed statement says.
package release
