// Package testkit builds real test material for sensorcore's tests: a test
// activation root and signing key (never the production root), an offline CA
// (certs/ca) issuing sensor certificates, and complete provisioning bundles.
// It is imported by tests only.
package testkit
