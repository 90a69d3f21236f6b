// Package netconf is the sensor's network, proxy and console settings: the
// model carried in a provisioning bundle (settings.json, docs/formats.md),
// its validation, and the backends that apply it: netplan (YAML), networkd
// (.network file), iproute (the live interface, through iproute2's ip) and
// none (record only).
//
// Validate refuses before anything is applied: bad address syntax, a mask
// that is not contiguous, a gateway outside the subnet or on its network or
// broadcast address, a bad DNS server, a hostname that breaks RFC 1123, a bad
// proxy host or port. It never changes an interface it was not told about.
package netconf
