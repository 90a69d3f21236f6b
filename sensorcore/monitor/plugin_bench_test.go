package monitor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/plugin"
)

// The plugin machinery in the whole pipeline (docs/plugins.md, "Speed"):
// what a protocol described as a plugin costs per packet against the
// built-in decoder of the same protocol, and what it costs the packets of
// every other protocol (nothing).

// loadPlugin registers the plugin file in the process registry until the
// benchmark ends.
func loadPlugin(b *testing.B, src []byte) {
	p, err := plugin.Parse(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Register(dissect.Default()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dissect.Default().Unregister(p.Name) })
}

// BenchmarkPipelineModbus runs the shared Modbus captures through the
// whole pipeline, one packet per op: with the built-in Modbus decoder,
// and with the Modbus example plugin (examples/plugins/modbus), which
// takes port 502 from it. The ratio of the two is what the plugin costs
// per packet where it matters, in the monitor.
func BenchmarkPipelineModbus(b *testing.B) {
	files := needs.Shared(b, "pcaps/modbus/*.pcap")
	mx := loadMixOf(b, files)
	src, err := os.ReadFile(filepath.Join(needs.RepoRoot(b), "examples", "plugins", "modbus", "modbus.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("builtin", func(b *testing.B) { benchPipelineMix(b, mx, Options{Learning: time.Hour}) })
	b.Run("plugin", func(b *testing.B) {
		loadPlugin(b, src)
		benchPipelineMix(b, mx, Options{Learning: time.Hour})
	})
}

// unrelatedPlugin is a plugin for a protocol none of the shared captures
// carries, on TCP and UDP, with a signature and an alert: with it loaded,
// every packet of the mix is a protocol without a plugin.
const unrelatedPlugin = `format: tapline-plugin/1
protocol: kilnnet
title: KilnNet
version: 1.0.0
byte_order: big
transport: {tcp: [7700], udp: [7700]}
signature: [{at: 0, is: "KN"}, {at: 2, is: [1, 2]}]
framing: {length: {at: 4, size: 2}, min: 8, max: 4096, checks: [{at: 0, is: "KN"}]}
fields:
  - {id: magic, type: str, size: 2}
  - {id: proto_version, type: u1}
  - {id: msg_type, type: u1}
  - {id: length, type: u2}
  - {id: sequence, type: u2}
operation: {function: msg_type, transaction: sequence}
alerts:
  - {id: kilnnet-stop, when: "msg_type == 4 && request", title: {en: Stop, de: Halt}, message: {en: stop, de: Halt}}
`

// BenchmarkPipelineUnrelatedPlugin is BenchmarkPipeline with a plugin
// loaded whose protocol none of its packets carries: the same ns and
// allocations per packet show that protocols without a plugin pay
// nothing for the plugin machinery.
func BenchmarkPipelineUnrelatedPlugin(b *testing.B) {
	loadPlugin(b, []byte(unrelatedPlugin))
	benchPipeline(b, Options{Learning: time.Hour})
}
