// Package capture reads packets: capture files (pcap in either byte order
// with micro- or nanosecond timestamps, and pcapng, chosen by magic bytes and
// never by file name) and live monitor interfaces through AF_PACKET in pure
// Go, with an optional classic BPF filter and kernel drop counters.
//
// Readers return packet data that aliases an internal buffer: it is valid
// until the next call to Next. The package never writes to a network and
// never opens an interface in any mode other than receive-only promiscuous.
package capture
