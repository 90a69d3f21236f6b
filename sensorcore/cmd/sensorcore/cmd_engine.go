package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/tapline/tapline/sensorcore/console/page"
	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/inventory"
	"github.com/tapline/tapline/sensorcore/monitor"
	"github.com/tapline/tapline/sensorcore/plugin"
)

// cmdMonitorEngine is "sensorcore monitor-engine": the monitoring engine
// in a process of its own, started and supervised by serve (never by
// people or SSH sessions). It works in the state directory serve opened
// for it (descriptor 3) and answers serve on the socket serve listens on
// (descriptor 4); it reaches nothing of the sensor's by path.
var cmdMonitorEngine = runMonitorEngine

func runMonitorEngine(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sensorcore "+daemon.MonitorCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ifaces multi
	fs.Var(&ifaces, "iface", "capture on this interface (repeatable)")
	manuf := fs.String("manuf", inventory.DefaultManuf, "Wireshark manuf file for MAC vendors")
	var replayFDs multi
	fs.Var(&replayFDs, "replay-fd", "replay the capture file open on this descriptor (repeatable; serve hands them over)")
	speed := fs.Float64("replay-speed", 1, "replay at the recorded pace times this")
	loops := fs.Int("replay-loops", 0, "passes over the replayed files (0: until stopped)")
	if _, err := parse(fs, args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "monitor-engine: "+format+"\n", a...)
		return 1
	}
	if len(ifaces) == 0 && len(replayFDs) == 0 {
		return fail("no --iface or --replay-fd given")
	}
	var replay []monitor.ReplaySource
	for _, v := range replayFDs {
		fd, err := strconv.Atoi(v)
		if err != nil || fd < daemon.MonitorReplayFD {
			return fail("--replay-fd %q: a descriptor number from %d", v, daemon.MonitorReplayFD)
		}
		f := os.NewFile(uintptr(fd), "replay-"+v)
		fi, err := f.Stat()
		if err != nil {
			return fail("replay descriptor %d: %v; sensorcore serve --monitor-replay starts this command", fd, err)
		}
		defer f.Close()
		replay = append(replay, monitor.ReplaySource{Name: fmt.Sprintf("capture %d", len(replay)+1), R: f, Size: fi.Size()})
	}
	if err := hardenEngine(); err != nil {
		return fail("%v", err)
	}
	dir := os.NewFile(daemon.MonitorStateFD, "state")
	lnf := os.NewFile(daemon.MonitorListenerFD, "listener")
	if dir == nil || lnf == nil {
		return fail("started without its state directory and socket: sensorcore serve --monitor starts it")
	}
	if err := syscall.Fchdir(int(dir.Fd())); err != nil {
		return fail("state directory (descriptor %d): %v; sensorcore serve --monitor starts this command", daemon.MonitorStateFD, err)
	}
	dir.Close()
	ln, err := net.FileListener(lnf)
	lnf.Close()
	if err != nil {
		return fail("socket (descriptor %d): %v", daemon.MonitorListenerFD, err)
	}
	oui, err := inventory.ReadManuf(*manuf)
	if err != nil {
		fmt.Fprintf(stderr, "monitor-engine: warning: %v; MAC vendors left empty\n", err)
	}
	m, err := monitor.New(monitor.Options{StateDir: ".", OUI: oui})
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The protocol plugins serve gives it: verified here again against
	// the plugin key serve sent, loaded into the registry the pipelines
	// read (a new version replaces the old one in place: streams and
	// counts stay).
	plugins := plugin.NewSet(dissect.Default(), false)
	defer plugins.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+daemon.MonitorPluginsPath, func(w http.ResponseWriter, r *http.Request) {
		var in daemon.PluginInput
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, daemon.MaxPluginInput)).Decode(&in); err != nil {
			http.Error(w, "plugins: "+err.Error(), http.StatusBadRequest)
			return
		}
		var keys []plugin.Key
		if len(in.KeyFile) > 0 {
			keys, _ = plugin.ParseKeys(in.KeyFile) // apply checked it; unreadable, every plugin is refused
		}
		st := plugins.ApplyAccepted(in.Files, in.Accepted, keys, time.Now())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("GET "+daemon.MonitorHealthPath, func(w http.ResponseWriter, r *http.Request) {
		var h daemon.MonitorHealth
		ps := plugins.Status()
		h.Plugins = &ps
		if line, err := m.Health(); err != nil {
			h.Error = err.Error()
		} else {
			h.Capture = line
		}
		for _, p := range m.Ports(time.Now()) {
			h.Ports = append(h.Ports, daemon.CapturePort(p))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(h)
	})
	mux.Handle("/", framed(m.Handler()))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	go srv.Serve(ln)
	runErr := runCapture(ctx, m, ifaces, replay, monitor.ReplayOptions{Speed: *speed, Loops: *loops})
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(shut)
	cancel()
	if err := m.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return fail("%v", runErr)
	}
	return 0
}

// framed puts the page frame the console sent (MonitorFrameHeader) into
// the request's context, where the monitor's pages find it.
func framed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f page.Frame
		if v := r.Header.Get(daemon.MonitorFrameHeader); v != "" && len(v) < 4096 && json.Unmarshal([]byte(v), &f) == nil {
			r = r.WithContext(page.WithFrame(r.Context(), f))
		}
		h.ServeHTTP(w, r)
	})
}

// runCapture runs live capture on ifaces and the replay of the files in
// replay side by side, until ctx ends; a replay that finished its passes
// leaves the engine serving what it found.
func runCapture(ctx context.Context, m *monitor.Monitor, ifaces []string, replay []monitor.ReplaySource, o monitor.ReplayOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	n := 0
	if len(ifaces) > 0 {
		n++
		go func() { errs <- m.RunLive(ctx, ifaces...) }()
	}
	if len(replay) > 0 {
		n++
		go func() {
			if err := m.RunReplay(ctx, replay, o); err != nil {
				errs <- err
				return
			}
			<-ctx.Done()
			errs <- nil
		}()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel() // one failed: the engine stops, serve starts it again
		}
	}
	return first
}
