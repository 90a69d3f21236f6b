// Package decode parses the link, network and transport layers of a packet
// in place (Ethernet II, IEEE 802.1Q and 802.1ad QinQ tags, ARP, IPv4 with
// fragments counted, IPv6 with its extension headers, UDP and TCP) and keeps
// per-direction TCP stream state so that higher-layer PDUs which span
// segments, or share one, are found.
//
// Every field of a decoded Packet aliases the input slice; a Decoder and its
// Packet are reused packet after packet and the steady-state path performs no
// heap allocation. The package refuses to reassemble IPv4 fragments or to
// buffer out-of-order TCP data beyond one pending PDU per direction: it is
// built for passive monitoring at line rate, not for forensics.
package decode
