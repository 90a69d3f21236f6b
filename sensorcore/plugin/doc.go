// Package plugin reads, checks, signs and runs protocol plugins: a plant's
// description of an industrial protocol of its own, in one YAML file
// (docs/plugins.md), registered in the protocol registry
// (sensorcore/dissect) exactly like a built-in dissector, so its PDUs are
// counted, its hosts get roles, its operations are logged and its rules
// raise alerts.
//
// A plugin is data, never code: Parse compiles the file into a small
// program of field reads that an interpreter runs on each PDU with every
// offset checked, every loop bounded (MaxSteps, a repeat's cap, the
// nesting depth) and alert conditions written in CEL evaluated under a
// cost limit. A PDU that reaches a bound is malformed by the plugin
// (dissect.ErrPluginLimit): counted, never a crash or a stall.
//
// The package refuses: files over MaxFileSize, YAML anchors and aliases,
// unknown keys, names that are not plain identifiers, references to
// fields that come later or do not exist, type cycles, unbounded repeats,
// expressions that do not compile to a bool, and, on the appliance,
// every plugin not signed by a key the sensor was given (Verify).
package plugin
