package capture

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// LiveOptions configure live capture.
type LiveOptions struct {
	// Filter is a classic BPF program in the text form `tcpdump -ddd`
	// prints (an instruction count, then one "code jt jf k" line per
	// instruction); empty captures everything.
	Filter string
	// SnapLen bounds the bytes kept per packet (default 65535).
	SnapLen int
	// RingBlocks is the number of 1 MiB blocks of the TPACKET_V3 receive
	// ring (default 32). NoRing reads one packet per recvmsg(2) instead,
	// as on kernels without TPACKET_V3.
	RingBlocks int
	NoRing     bool
}

// ParseFilter reads a `tcpdump -ddd` program. Lines may also be separated
// by commas, as tcpdump prints them with -ddd piped through tr.
func ParseFilter(text string) ([]bpf.RawInstruction, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' || r == ';' })
	if len(fields) == 0 {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(fields[0]))
	if err != nil || n <= 0 || n > 4096 || len(fields)-1 != n {
		return nil, fmt.Errorf("capture: BPF filter: first line must be the instruction count (%d lines follow); use the output of tcpdump -ddd", len(fields)-1)
	}
	prog := make([]bpf.RawInstruction, 0, n)
	for i, line := range fields[1:] {
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("capture: BPF filter instruction %d: want \"code jt jf k\", got %q", i+1, line)
		}
		var v [4]uint64
		for j, s := range f {
			x, err := strconv.ParseUint(s, 0, 32)
			if err != nil {
				return nil, fmt.Errorf("capture: BPF filter instruction %d: %q is not a number", i+1, s)
			}
			v[j] = x
		}
		if v[1] > 255 || v[2] > 255 || v[0] > 0xffff {
			return nil, fmt.Errorf("capture: BPF filter instruction %d: field out of range", i+1)
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	// Round-trip through the disassembler to reject unknown opcodes.
	if _, ok := bpf.Disassemble(prog); !ok {
		return nil, fmt.Errorf("capture: BPF filter holds an instruction x/net/bpf does not know")
	}
	return prog, nil
}
