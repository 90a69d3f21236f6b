// Package inventory keeps the assets seen on the monitored network: devices
// keyed by IP address with the MAC address they use, a router's MAC (one MAC
// behind many IP addresses) kept as its own asset instead of being glued to
// every remote host, layer-2-only devices keyed by MAC, the vendor of each
// MAC from the IEEE OUI registry (read from Wireshark's manuf file, a
// maintained copy of the registry; never a hand-typed table), the protocols
// and roles each device shows, identity revealed by the traffic (vendor,
// model, firmware, serial, name), first and last seen, and peers.
//
// Observing a packet of a known host performs no heap allocation. The
// package never sends anything on the network: it only records what passes.
package inventory
