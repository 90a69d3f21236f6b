// Package offline decodes capture files with a plugin on the laptop, with
// the very engine the sensor runs (sensorcore/monitor): `tapline plugin
// test` and the app's Plugins screen. It refuses a plugin that does not
// load, and says which captures could not be read.
package offline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/monitor"
	"github.com/tapline/tapline/sensorcore/plugin"
)

// Result is what a run found.
type Result struct {
	// Protocol is the plugin's protocol name, Counts its counts.
	Protocol string
	Counts   monitor.ProtocolReport
	// Report is the whole analysis, as `sensorcore analyze --json` has it.
	Report monitor.Report
	// Operations are the operations log records of the plugin's protocol,
	// as `sensorcore events --json` writes them.
	Operations []Operation
}

// Operation is one operations log record: its JSON, and the members a
// table shows.
type Operation struct {
	Raw          json.RawMessage `json:"-"`
	Time         string          `json:"time"`
	Protocol     string          `json:"protocol"`
	Client       End             `json:"client"`
	Server       End             `json:"server"`
	Function     *int            `json:"function"`
	FunctionName string          `json:"function_name"`
	Action       string          `json:"action"`
	Fields       map[string]any  `json:"fields"`
	Result       string          `json:"result"`
}

// End is one end of an operation: IP address and port, and the MAC
// address on Ethernet (the MAC address alone for a protocol on an
// EtherType); String writes it as a table shows it.
type End = monitor.OperationEnd

// runs are serialised: the protocol registry is the process's.
var runs sync.Mutex

// MaxOperations bounds the records a run keeps.
const MaxOperations = 100000

// Run decodes the captures with the plugin file's bytes (name is its file
// name, for messages).
func Run(name string, data []byte, captures []string) (*Result, error) {
	runs.Lock()
	defer runs.Unlock()
	set := plugin.NewSet(dissect.Default(), true)
	defer set.Close()
	st := set.Apply([]plugin.File{{Name: filepath.Base(name), Data: data}}, nil, time.Now())
	if len(st.Refused) > 0 {
		return nil, fmt.Errorf("%s", st.Refused[0].Reason)
	}
	if len(st.Loaded) != 1 {
		return nil, fmt.Errorf("%s: the plugin did not load", name)
	}
	proto := st.Loaded[0].Protocol
	var ops bytes.Buffer
	m, err := monitor.New(monitor.Options{Learning: -1, Operations: &ops})
	if err != nil {
		return nil, err
	}
	for _, c := range captures {
		m.RunFile(c)
	}
	if err := m.Close(); err != nil {
		return nil, err
	}
	res := &Result{Protocol: proto, Report: m.Report()}
	res.Counts = res.Report.Protocols[proto]
	for _, line := range bytes.Split(ops.Bytes(), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var op Operation
		if err := json.Unmarshal(line, &op); err != nil {
			return nil, fmt.Errorf("operations log: %v", err)
		}
		if op.Protocol != proto {
			continue
		}
		if len(res.Operations) == MaxOperations {
			break
		}
		op.Raw = append(json.RawMessage(nil), line...)
		res.Operations = append(res.Operations, op)
	}
	return res, nil
}
