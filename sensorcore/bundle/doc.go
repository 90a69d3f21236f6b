// Package bundle reads and writes the provisioning bundle: what travels from
// the laptop to a sensor (docs/formats.md, "Provisioning bundle"). A bundle is
// a directory holding manifest.json and the files it lists (activation file,
// certificate, key, chain, optional CRL, settings.json, optional proxy client
// certificate), and the same content packed as one uncompressed tar archive
// (manifest.json first) named <sensor>-<UTC yyyymmddThhmmssZ>.tapbundle.
//
// Open verifies every file's size and SHA-256 against the manifest and
// refuses missing, extra, altered, oversized or oddly named files, links and
// directories inside an archive. It checks integrity only: the activation
// and certificate checks are the caller's (apply, the laptop's checks).
package bundle
