package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/inventory"
	"github.com/tapline/tapline/sensorcore/monitor"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/store"
)

// Monitoring commands: analyze, inventory, alerts (docs/monitoring.md).
var (
	cmdAnalyze   = runAnalyze
	cmdInventory = runInventory
	cmdAlerts    = runAlerts
	cmdEvents    = runEvents
)

// internalFault turns a panic into one line on stderr and exitInternal,
// so a bug is never reported like bad input (a Go panic exits 2).
func internalFault(cmd string, stderr io.Writer, code *int) {
	if v := recover(); v != nil {
		fmt.Fprintf(stderr, "sensorcore %s: internal error (a bug, please report it with the capture): %v\n", cmd, v)
		*code = exitInternal
	}
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("analyze a.pcap --json b.pcap").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func runAnalyze(args []string, stdout, stderr io.Writer) (code int) {
	defer internalFault("analyze", stderr, &code)
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	learning := fs.Duration("learning", 0, "end learning this long after the first packet (default: learn over the whole capture, so only always-on rules alert)")
	manuf := fs.String("manuf", inventory.DefaultManuf, "Wireshark manuf file for MAC vendors")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (for performance work; default.pgo is made this way)")
	plugins := fs.String("plugins", "", "also decode the protocols of the plugins in this directory (or this one plugin file; docs/plugins.md)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sensorcore analyze FILE... [--json] [--plugins DIR] [--learning DURATION] [--manuf PATH] [--cpuprofile FILE]")
		fs.PrintDefaults()
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "sensorcore analyze: no capture file given; usage: sensorcore analyze FILE... --json")
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.OpenFile(*cpuProfile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "sensorcore analyze: --cpuprofile: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "sensorcore analyze: --cpuprofile %s: %v\n", *cpuProfile, err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	l := *learning
	if l <= 0 {
		l = -1
	}
	set, ok := loadPlugins("analyze", *plugins, stderr)
	if !ok {
		return exitUnreadable
	}
	defer set.Close()
	m, err := monitor.New(monitor.Options{Learning: l})
	if err != nil {
		fmt.Fprintln(stderr, "sensorcore analyze:", err)
		return exitUnreadable
	}
	defer m.Close()
	if !runFiles("analyze", m, files, stderr) {
		return exitUnreadable
	}
	// The OUI registry is opened when the report needs it: mapping it and
	// finding its first entry takes microseconds (the lookups scan it
	// lazily), and opening it on a goroutine of its own, beside the
	// captures' reading, had cost every run the start of a second thread
	// (about 0.4 ms of CPU time).
	if o, err := inventory.ReadManuf(*manuf); err != nil {
		fmt.Fprintf(stderr, "sensorcore analyze: warning: %v; MAC vendors left empty\n", err)
	} else {
		m.SetOUI(o)
	}
	rep := m.Report()
	warnLinkTypes("analyze", rep, stderr)
	code = exitComplete
	if !rep.Complete {
		code = exitPartial
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "sensorcore analyze:", err)
			return exitUnreadable
		}
		return code
	}
	fmt.Fprintf(stdout, "%d packets, %d bytes, %d assets, %d alerts\n", rep.Packets, rep.Bytes, len(rep.Assets), len(rep.Alerts))
	for _, f := range rep.Files {
		if f.Status != monitor.FileComplete {
			fmt.Fprintf(stdout, "%s: %s, %d packets read: %s\n", f.Path, f.Status, f.Packets, f.Error)
		}
	}
	for _, lt := range rep.LinkTypes {
		if !lt.Decoded {
			fmt.Fprintf(stdout, "link type %d (%s) not decoded: %d packets\n", lt.LinkType, lt.Name, lt.Packets)
		}
	}
	for _, id := range dissect.Industrial() {
		name := dissect.Name(id)
		p := rep.Protocols[name]
		if p.PDUs == 0 {
			continue
		}
		fmt.Fprintf(stdout, "%-7s %d PDUs, %d malformed, functions %s\n", name, p.PDUs, p.Malformed, functionList(p.Functions))
	}
	for _, a := range rep.Alerts {
		fmt.Fprintf(stdout, "alert %d %s %s: %s\n", a.ID, a.Severity, a.Title, a.Message)
	}
	if !rep.Complete {
		fmt.Fprintln(stdout, "partial: the counts above are those of what could be read")
	}
	return code
}

// Exit codes of analyze and events (docs/monitoring.md): results are
// printed for complete and partial input only.
const (
	exitComplete   = 0 // every file read to its end, every packet decoded
	exitPartial    = 1 // damaged, cut-short or unreadable files, or undecoded link types: results of what was read
	exitUnreadable = 2 // usage, or no file could be read at all: nothing but the error
	exitInternal   = 3 // an internal fault (a bug): never mistaken for bad input
)

// runFiles runs the capture files through m, one line on stderr per file
// that is partial or unreadable; false when none could be read at all.
func runFiles(cmd string, m *monitor.Monitor, files []string, stderr io.Writer) (read bool) {
	for _, f := range files {
		fr := m.RunFile(f)
		if fr.Status != monitor.FileUnreadable {
			read = true
		}
		if fr.Status != monitor.FileComplete {
			fmt.Fprintf(stderr, "sensorcore %s: %s: %s%s\n", cmd, f, fr.Error, readSoFar(fr))
		}
	}
	return read
}

// warnLinkTypes names on stderr each link type that was not decoded.
func warnLinkTypes(cmd string, rep monitor.Report, stderr io.Writer) {
	for _, lt := range rep.LinkTypes {
		if !lt.Decoded {
			fmt.Fprintf(stderr, "sensorcore %s: link type %d (%s) is not decoded: %d packets counted, not analysed\n", cmd, lt.LinkType, lt.Name, lt.Packets)
		}
	}
}

// readSoFar says how much of a partial file was used.
func readSoFar(fr monitor.FileReport) string {
	if fr.Status != monitor.FilePartial {
		return ""
	}
	return fmt.Sprintf("; results include the %d packets before it", fr.Packets)
}

func functionList(f map[string]uint64) string {
	parts := make([]string, 0, len(f))
	for k, v := range f {
		parts = append(parts, fmt.Sprintf("%s×%d", k, v))
	}
	sortStrings(parts)
	return strings.Join(parts, " ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// loadState reads the monitor state under root; a missing database is an
// empty state.
func loadState(cmd, root string, stderr io.Writer) (*store.State, int) {
	dir := filepath.Join(root, monitor.StateSubdir)
	st, err := store.Load(dir)
	if errors.Is(err, store.ErrNoState) {
		fmt.Fprintf(stderr, "sensorcore %s: no monitor state yet in %s (the daemon saves it every 30 s)\n", cmd, dir)
		return &store.State{}, 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore %s: %v\n", cmd, err)
		return nil, 2
	}
	return st, 0
}

func runInventory(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inventory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the assets as a JSON array")
	root := fs.String("root", defaultRoot(), "filesystem root of the appliance (default $"+rootEnv+", else /)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sensorcore inventory: unexpected argument %q; usage: sensorcore inventory [--json] [--root DIR]\n", fs.Arg(0))
		return 2
	}
	st, rc := loadState("inventory", *root, stderr)
	if st == nil {
		return rc
	}
	assets := st.Assets
	if assets == nil {
		assets = []inventory.Asset{}
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(assets)
		return 0
	}
	for _, a := range assets {
		fmt.Fprintf(stdout, "%-28s %-17s %-24.24s %-20s %s\n", a.ID, a.MAC, a.Vendor, strings.Join(a.Protocols, ","), strings.Join(a.Roles, ", "))
	}
	return 0
}

func runAlerts(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the alerts as a JSON array")
	root := fs.String("root", defaultRoot(), "filesystem root of the appliance (default $"+rootEnv+", else /)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sensorcore alerts: unexpected argument %q; usage: sensorcore alerts [--json] [--root DIR]\n", fs.Arg(0))
		return 2
	}
	st, rc := loadState("alerts", *root, stderr)
	if st == nil {
		return rc
	}
	alerts := st.Alerts
	if alerts == nil {
		alerts = []alert.Alert{}
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(alerts)
		return 0
	}
	for _, a := range alerts {
		fmt.Fprintf(stdout, "%d %s %-8s %-12s %s: %s\n", a.ID, a.Time.Format(time.RFC3339), a.Severity, a.Status, a.Title, a.Message)
	}
	return 0
}

// runEvents writes the operations log of capture files: JSON lines with
// --json (the contract in docs/monitoring.md), one line per operation for
// people otherwise. Exit codes as analyze.
func runEvents(args []string, stdout, stderr io.Writer) (code int) {
	defer internalFault("events", stderr, &code)
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write one JSON object per operation (JSON lines)")
	plugins := fs.String("plugins", "", "also decode the protocols of the plugins in this directory (or this one plugin file; docs/plugins.md)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sensorcore events FILE... [--json] [--plugins DIR]")
		fs.PrintDefaults()
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUnreadable
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "sensorcore events: no capture file given; usage: sensorcore events FILE... [--json]")
		return exitUnreadable
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	var w io.Writer = out
	if !*asJSON {
		w = &opText{w: out}
	}
	set, ok := loadPlugins("events", *plugins, stderr)
	if !ok {
		return exitUnreadable
	}
	defer set.Close()
	m, err := monitor.New(monitor.Options{Learning: -1, Operations: w})
	if err != nil {
		fmt.Fprintln(stderr, "sensorcore events:", err)
		return exitUnreadable
	}
	read := runFiles("events", m, files, stderr)
	if err := m.Close(); err != nil {
		fmt.Fprintln(stderr, "sensorcore events:", err)
		return exitUnreadable
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(stderr, "sensorcore events:", err)
		return exitUnreadable
	}
	if !read {
		return exitUnreadable
	}
	rep := m.Report()
	warnLinkTypes("events", rep, stderr)
	if !rep.Complete {
		return exitPartial
	}
	return exitComplete
}

// opText turns operations log JSON lines into one line for people each.
type opText struct {
	w    io.Writer
	rest []byte
}

func (t *opText) Write(p []byte) (int, error) {
	t.rest = append(t.rest, p...)
	for {
		i := bytes.IndexByte(t.rest, '\n')
		if i < 0 {
			return len(p), nil
		}
		var op monitor.Operation
		if err := json.Unmarshal(t.rest[:i], &op); err != nil {
			return 0, err
		}
		t.rest = t.rest[i+1:]
		var b strings.Builder
		b.WriteString(op.Line())
		b.WriteByte('\n')
		if _, err := io.WriteString(t.w, b.String()); err != nil {
			return 0, err
		}
	}
}

// loadPlugins registers the plugins of path (a directory, or one plugin
// file) for an offline run of analyze or events: they are read as the
// engineer gives them, signed or not (the monitor loads only signed
// ones). A plugin that does not load stops the command: counts without
// it would look complete.
func loadPlugins(cmd, path string, stderr io.Writer) (*plugin.Set, bool) {
	set := plugin.NewSet(dissect.Default(), true)
	if path == "" {
		return set, true
	}
	var files []plugin.File
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		if _, err := plugin.ReadFile(path); err != nil {
			fmt.Fprintf(stderr, "sensorcore %s: --plugins: %v\n", cmd, err)
			return set, false
		}
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "sensorcore %s: --plugins: %v\n", cmd, err)
			return set, false
		}
		files = []plugin.File{{Name: filepath.Base(path), Data: data}}
	} else if files, err = plugin.ReadDir(path); err != nil {
		fmt.Fprintf(stderr, "sensorcore %s: --plugins: %v\n", cmd, err)
		return set, false
	} else if fi == nil {
		fmt.Fprintf(stderr, "sensorcore %s: --plugins %s: no such directory\n", cmd, path)
		return set, false
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "sensorcore %s: --plugins %s holds no plugin (*.yaml)\n", cmd, path)
		return set, false
	}
	st := set.Apply(files, nil, time.Now())
	for _, r := range st.Refused {
		where := path
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
			where = filepath.Dir(path)
		}
		reason := r.Reason
		if !strings.HasPrefix(reason, r.File+":") {
			reason = r.File + ": " + reason
		}
		fmt.Fprintf(stderr, "sensorcore %s: %s\n", cmd, filepath.Join(where, reason))
	}
	if len(st.Refused) > 0 {
		set.Close()
		return set, false
	}
	return set, true
}
