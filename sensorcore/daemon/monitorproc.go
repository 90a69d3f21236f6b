package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/console/page"
	"github.com/tapline/tapline/sensorcore/monitor"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/validate"
)

// MonitorCommand is the subcommand that runs the monitoring engine in a
// process of its own: "sensorcore monitor-engine". serve starts it; it is
// no command for people (nor for SSH sessions).
const MonitorCommand = "monitor-engine"

// DefaultMonitorUser is the system user the monitoring engine runs as
// (install-core --service makes it); where it does not exist, nobody.
const DefaultMonitorUser = "sensorcore-monitor"

// Descriptors the engine process inherits from serve.
const (
	MonitorStateFD    = 3 // its state directory, opened by serve; the engine works in it (fchdir)
	MonitorListenerFD = 4 // the Unix socket serve reaches it on
	// MonitorReplayFD is the first capture file to replay (--replay-fd),
	// opened by serve; the next ones follow.
	MonitorReplayFD = 5
)

// MonitorHealthPath is the engine's own route (beside the monitor's pages)
// answering its capture line as JSON: {"capture": "...", "error": "..."}.
const MonitorHealthPath = "/engine/health"

// MonitorFrameHeader carries, from the console to the engine, the frame
// its pages show around their content (the sensor's name and generation,
// who is signed in: page.Frame as JSON), since the engine renders them in
// the console's layout from another process.
const MonitorFrameHeader = "Tapline-Page-Frame"

// MonitorHealth is what MonitorHealthPath answers.
type MonitorHealth struct {
	Capture string `json:"capture,omitempty"`
	Error   string `json:"error,omitempty"`
	// Ports is each monitoring port's capture health (sensorcore validate).
	Ports []CapturePort `json:"ports,omitempty"`
	// Plugins is what the engine loaded of the plugins serve gave it, and
	// what it refused (its digest says which input it applied).
	Plugins *plugin.Status `json:"plugins,omitempty"`
}

// CapturePort is one monitoring port's capture health as the monitoring
// engine reports it (monitor.PortHealth): traffic and drops, and the
// industrial protocols seen over the last minute; what validate judges.
type CapturePort = validate.Port

// MonitorState is the monitoring engine's process as serve supervises it:
// in run.json, `sensorcore status` and on the console's overview.
type MonitorState struct {
	Running   bool       `json:"running"`
	PID       int        `json:"pid,omitempty"`
	User      string     `json:"user"` // who it runs as, e.g. "sensorcore-monitor (uid 998)"
	StartedAt *time.Time `json:"started_at,omitempty"`
	// Restarts counts how often the engine was started again after a
	// fault since serve started ("capture restarted N times").
	Restarts    int        `json:"restarts"`
	LastFault   string     `json:"last_fault,omitempty"`
	LastFaultAt *time.Time `json:"last_fault_at,omitempty"`
	NextStart   *time.Time `json:"next_start,omitempty"` // while waiting to restart
}

// MonitorOptions configure the engine's process.
type MonitorOptions struct {
	Interfaces []string
	// Replay are capture files the engine replays as if captured live
	// (a lab and demonstration feature, docs/monitoring.md): serve opens
	// them and hands the engine their descriptors. ReplaySpeed scales
	// the recorded pace (0: 1); ReplayLoops bounds the passes (0: until
	// serve stops).
	Replay      []string
	ReplaySpeed float64
	ReplayLoops int
	Manuf       string // the MAC vendor registry the engine reads
	// Exe is the sensorcore binary to run (default: this very program,
	// /proc/self/exe on Linux, so the engine is serve's own version even
	// after install-core replaced the file, and runs wherever the binary
	// lies: the engine's user needs no way to it by path).
	Exe string
	// User is who the engine runs as when serve runs as root: a user name
	// or "UID:GID" (config.json monitor_user). Empty: sensorcore-monitor
	// when that user exists, else nobody.
	User string
	// MinBackoff and MaxBackoff bound the pause before a restart (1 s
	// doubling to 30 s); a run of StableAfter (60 s) resets it. Watchdog
	// (10 s) is how long the engine may fail to answer its health route
	// before it is killed and restarted.
	MinBackoff, MaxBackoff, StableAfter, Watchdog time.Duration
	Log                                           func(format string, args ...any)
}

// MonitorSupervisor runs the monitoring engine as a child process of serve
// and restarts it with backoff when it dies or hangs. A fault in packet
// parsing costs seconds of monitoring, never the console, the SSH listener
// or the rollback deadline, which stay in serve. The engine runs with least
// privilege (monitorproc_linux.go) and owns its state: the store in its
// state directory, which it writes and reloads at each start; serve never
// opens that store (a database file written by the less privileged process
// is input serve does not parse) and reaches the engine's pages only
// through its Unix socket, with bounds.
type MonitorSupervisor struct {
	o        MonitorOptions
	stateDir string
	sockDir  string
	sock     string
	replay   []*os.File
	ln       *net.UnixListener
	lnFile   *os.File
	cred     *monitorUser
	client   *http.Client
	proxy    *httputil.ReverseProxy

	// plugins is what the engine should run: the plugin directory and the
	// plugin keys, as serve last read them (plugins.go).
	plugins pluginFeed

	mu     sync.Mutex
	st     MonitorState
	health MonitorHealth
	// answered is when the engine last answered its health route (or was
	// started); a page is not asked of an engine silent for too long.
	answered time.Time
}

// NewMonitorSupervisor prepares the engine's process: its user, its state
// directory and the socket serve reaches it on. Run starts it.
func (e *Engine) NewMonitorSupervisor(o MonitorOptions) (*MonitorSupervisor, error) {
	if len(o.Interfaces) == 0 && len(o.Replay) == 0 {
		return nil, errors.New("monitor: no interface to monitor and no capture to replay")
	}
	if o.ReplaySpeed < 0 || o.ReplaySpeed > monitor.MaxReplaySpeed {
		return nil, fmt.Errorf("monitor: replay speed %g: choose more than 0 and at most %d", o.ReplaySpeed, monitor.MaxReplaySpeed)
	}
	if o.ReplayLoops < 0 {
		return nil, fmt.Errorf("monitor: %d replay loops: 0 (until stopped) or more", o.ReplayLoops)
	}
	if o.Exe == "" {
		o.Exe = engineExecutable()
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.StableAfter <= 0 {
		o.StableAfter = time.Minute
	}
	if o.Watchdog <= 0 {
		o.Watchdog = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.User == "" {
		o.User = e.Config.MonitorUser
	}
	s := &MonitorSupervisor{o: o, stateDir: e.Layout.MonitorState(), plugins: pluginFeed{e: e, kick: make(chan struct{}, 1)}}
	cred, err := resolveMonitorUser(o.User)
	if err != nil {
		return nil, err
	}
	for _, p := range o.Replay {
		f, err := openReplay(p)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.replay = append(s.replay, f)
	}
	s.cred = cred
	s.st.User = cred.String()
	// The socket lives in a private directory of serve's (0700): the
	// engine gets the listening descriptor, never a path it could swap.
	if s.sockDir, err = os.MkdirTemp("", "sensorcore-monitor-"); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	s.sock = filepath.Join(s.sockDir, "engine.sock")
	if s.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: s.sock, Net: "unix"}); err != nil {
		os.RemoveAll(s.sockDir)
		return nil, fmt.Errorf("monitor: %w", err)
	}
	if s.lnFile, err = s.ln.File(); err != nil {
		s.Close()
		return nil, fmt.Errorf("monitor: %w", err)
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", s.sock)
		},
		ResponseHeaderTimeout:  monitorProxyTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           4,
		IdleConnTimeout:        30 * time.Second,
	}
	s.client = &http.Client{Transport: tr, Timeout: monitorProxyTimeout}
	s.proxy = &httputil.ReverseProxy{Rewrite: s.rewrite, Transport: tr, ModifyResponse: sanitizeMonitorResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.o.Log("monitor: console request %s: %v", r.URL.Path, err)
			s.unavailable(w, r, http.StatusBadGateway)
		}}
	return s, nil
}

// openReplay opens a capture file to replay: a regular file that opens
// as pcap or pcapng; the error names it and says what it is instead.
func openReplay(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("monitor: --monitor-replay: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil {
		_, err = capture.NewReader(io.NewSectionReader(f, 0, fi.Size()))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("monitor: --monitor-replay %s: %v (give a pcap or pcapng capture file)", path, err)
	}
	return f, nil
}

// logBurst lines of the engine's output are logged each logWindow.
const (
	logBurst  = 100
	logWindow = 10 * time.Second
)

// monitorProxyTimeout bounds a console request to the engine, and
// maxMonitorResponse a page it sends (a Devices page of 12,000 assets is
// about 6 MiB).
const (
	monitorProxyTimeout = 10 * time.Second
	maxMonitorResponse  = 64 << 20
)

// Close stops listening and removes the socket's directory. Call it after
// Run has returned.
func (s *MonitorSupervisor) Close() {
	for _, f := range s.replay {
		f.Close()
	}
	if s.lnFile != nil {
		s.lnFile.Close()
	}
	if s.ln != nil {
		s.ln.Close()
	}
	os.RemoveAll(s.sockDir)
}

// State returns the engine process's state.
func (s *MonitorSupervisor) State() MonitorState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// PID is the running engine's pid, 0 while it is down.
func (s *MonitorSupervisor) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.Running {
		return 0
	}
	return s.st.PID
}

// Health is the capture line of sanity: the engine's own while it runs
// (polled by the watchdog, so this never waits on the engine), an error
// saying it is restarting otherwise.
func (s *MonitorSupervisor) Health() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.Running {
		return "", fmt.Errorf("capture: the monitoring engine is restarting (%s)", s.faultLine())
	}
	if s.health.Error != "" {
		return "", errors.New(s.health.Error)
	}
	if s.health.Capture == "" {
		return "capture: starting", nil
	}
	line := s.health.Capture
	if s.st.Restarts > 0 {
		line += fmt.Sprintf(" (restarted %d times; last fault: %s)", s.st.Restarts, s.st.LastFault)
	}
	return line, nil
}

// Ports is each monitoring port's health from the engine's last answer;
// nil while it is not running.
func (s *MonitorSupervisor) Ports() []CapturePort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.Running {
		return nil
	}
	return append([]CapturePort(nil), s.health.Ports...)
}

func (s *MonitorSupervisor) faultLine() string {
	if s.st.Restarts == 0 && s.st.LastFault == "" {
		return "starting"
	}
	return fmt.Sprintf("capture restarted %d times; last fault: %s", s.st.Restarts, s.st.LastFault)
}

// Run starts the engine and keeps it running until ctx ends, then stops
// it (SIGTERM: it saves its state; SIGKILL after 5 s).
func (s *MonitorSupervisor) Run(ctx context.Context) {
	go s.watchPlugins(ctx)
	consecutive := 0
	for {
		started := time.Now()
		fault := s.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) >= s.o.StableAfter {
			consecutive = 0
		}
		consecutive++
		delay := s.o.MinBackoff << min(consecutive-1, 16)
		if delay > s.o.MaxBackoff || delay <= 0 {
			delay = s.o.MaxBackoff
		}
		now := time.Now().UTC()
		next := now.Add(delay)
		s.mu.Lock()
		s.st.Running, s.st.PID, s.st.StartedAt = false, 0, nil
		s.st.LastFault, s.st.LastFaultAt, s.st.NextStart = fault, &now, &next
		s.health = MonitorHealth{}
		s.mu.Unlock()
		s.o.Log("monitor: the monitoring engine stopped: %s; starting it again in %s", fault, delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		s.mu.Lock()
		s.st.Restarts++
		s.st.NextStart = nil
		s.mu.Unlock()
	}
}

// runOnce runs the engine once and returns why it ended ("" when ctx did).
func (s *MonitorSupervisor) runOnce(ctx context.Context) string {
	dir, err := s.prepareStateDir()
	if err != nil {
		return "state directory: " + err.Error()
	}
	args := []string{MonitorCommand, "--manuf", s.o.Manuf}
	for _, i := range s.o.Interfaces {
		args = append(args, "--iface", i)
	}
	for i := range s.replay {
		args = append(args, "--replay-fd", strconv.Itoa(MonitorReplayFD+i))
	}
	if len(s.replay) > 0 {
		args = append(args, "--replay-speed", strconv.FormatFloat(max(s.o.ReplaySpeed, 0), 'g', -1, 64), "--replay-loops", strconv.Itoa(s.o.ReplayLoops))
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		dir.Close()
		return err.Error()
	}
	cmd := exec.Command(s.o.Exe, args...)
	cmd.Args[0] = "sensorcore"                               // what ps shows, rather than /proc/self/exe
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} // nothing of serve's environment
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.ExtraFiles = append([]*os.File{dir, s.lnFile}, s.replay...) // MonitorStateFD, MonitorListenerFD, MonitorReplayFD...
	cmd.SysProcAttr = s.cred.sysProcAttr()
	closeOnExecInherited()
	tail := &faultTail{}
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		// The engine's output goes to serve's log, at most logBurst lines
		// each logWindow: an engine that floods it (hostile or broken)
		// costs one line saying how much was left out.
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 4096), 64<<10)
		window, inWindow, dropped := time.Now(), 0, 0
		for sc.Scan() {
			line := sc.Text()
			tail.add(line)
			if time.Since(window) > logWindow {
				if dropped > 0 {
					s.o.Log("monitor: %d lines of the engine's output were not logged", dropped)
				}
				window, inWindow, dropped = time.Now(), 0, 0
			}
			if inWindow++; inWindow > logBurst {
				dropped++
				continue
			}
			s.o.Log("monitor: %s", line)
		}
		if dropped > 0 {
			s.o.Log("monitor: %d lines of the engine's output were not logged", dropped)
		}
		io.Copy(io.Discard, pr)
	}()

	// The child gets SIGKILL when the thread that started it ends
	// (Pdeathsig): start and wait on one locked thread, so that is serve's
	// end, not a Go scheduler's whim.
	type result struct {
		state *os.ProcessState
		err   error
	}
	started := make(chan error, 1)
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		done <- result{cmd.ProcessState, err}
	}()
	err = <-started
	dir.Close()
	pw.Close()
	if err != nil {
		pr.Close()
		return "starting " + s.o.Exe + ": " + err.Error()
	}
	now := time.Now().UTC()
	s.mu.Lock()
	s.st.Running, s.st.PID, s.st.StartedAt = true, cmd.Process.Pid, &now
	s.health, s.answered = MonitorHealth{}, time.Now()
	s.mu.Unlock()
	on := strings.Join(s.o.Interfaces, ", ")
	if len(s.o.Replay) > 0 {
		on = strings.TrimPrefix(on+", replaying "+strings.Join(s.o.Replay, ", "), ", ")
	}
	s.o.Log("monitor: monitoring engine started, pid %d, as %s, on %s", cmd.Process.Pid, s.cred, on)

	hung := make(chan string, 1)
	wctx, stopWatch := context.WithCancel(ctx)
	go s.watch(wctx, cmd.Process, hung)
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			res = <-done
		}
	}
	stopWatch()
	<-logged
	pr.Close()
	if ctx.Err() != nil {
		return ""
	}
	select {
	case why := <-hung:
		return why
	default:
	}
	return describeExit(res.state, res.err, tail.fault())
}

// watch polls the engine's health route; when it has not answered for the
// watchdog period the engine is killed (a parser in an endless loop does
// not crash, it hangs).
func (s *MonitorSupervisor) watch(ctx context.Context, p *os.Process, hung chan<- string) {
	every := s.pollEvery()
	last := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	// The first answers come soon after the start (the console's pages
	// and sanity wait on one), then every poll.
	wait := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		case <-t.C:
		case <-s.plugins.kick:
		}
		if s.answeredOnce() {
			wait = time.Hour
		}
		h, err := s.poll(ctx, every)
		if err == nil {
			// The engine runs the plugins serve has, sent again whenever
			// it reports another input (a new engine reports none).
			if ps, ok := s.sendPlugins(ctx, h.Plugins, every); ok {
				h.Plugins = ps
			}
			last = time.Now()
			s.mu.Lock()
			s.health, s.answered = h, last
			s.mu.Unlock()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if since := time.Since(last); since >= s.o.Watchdog {
			hung <- fmt.Sprintf("the engine did not answer for %s: killed", since.Round(time.Second))
			p.Kill()
			return
		}
	}
}

// answeredOnce reports whether the running engine has answered a poll.
func (s *MonitorSupervisor) answeredOnce() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health.Capture != "" || s.health.Error != "" || len(s.health.Ports) > 0
}

// pollEvery is how often the watchdog asks the engine for its health.
func (s *MonitorSupervisor) pollEvery() time.Duration {
	return max(s.o.Watchdog/5, 100*time.Millisecond)
}

// responsive reports whether the engine runs and answered its health
// route lately (within two polls and a second).
func (s *MonitorSupervisor) responsive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Running && time.Since(s.answered) <= 2*s.pollEvery()+time.Second
}

func (s *MonitorSupervisor) poll(ctx context.Context, timeout time.Duration) (MonitorHealth, error) {
	var h MonitorHealth
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://monitor"+MonitorHealthPath, nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("health: %s", resp.Status)
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h)
	return h, err
}

// describeExit says how the engine ended, with the fault it printed (a
// Go panic's first line, say) when there is one.
func describeExit(st *os.ProcessState, err error, printed string) string {
	var how string
	ws, ok := syscall.WaitStatus(0), false
	if st != nil {
		ws, ok = st.Sys().(syscall.WaitStatus)
	}
	switch {
	case st == nil:
		how = fmt.Sprint(err)
	case ok && ws.Signaled():
		how = "killed by " + signalName(ws.Signal())
	case st.ExitCode() == 0:
		how = "exited"
	default:
		how = fmt.Sprintf("exited with status %d", st.ExitCode())
	}
	if printed != "" {
		return how + ": " + printed
	}
	return how
}

// faultTail keeps the first line of the engine's output that names a
// crash (a Go panic, a fatal error, a signal the runtime reports: the
// lines after it are its stack dump) and its last lines.
type faultTail struct {
	mu    sync.Mutex
	crash string
	lines []string
}

func (f *faultTail) add(l string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := strings.TrimSpace(l)
	if f.crash == "" && (strings.HasPrefix(t, "panic: ") || strings.HasPrefix(t, "fatal error: ") ||
		(strings.HasPrefix(t, "SIG") && strings.Contains(t, ": "))) {
		f.crash = t
	}
	if len(f.lines) == 8 {
		f.lines = f.lines[1:]
	}
	if t != "" {
		f.lines = append(f.lines, t)
	}
}

// fault is the crash line, else the last line printed.
func (f *faultTail) fault() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	pick := f.crash
	if pick == "" && len(f.lines) > 0 {
		pick = f.lines[len(f.lines)-1]
	}
	if len(pick) > 300 {
		pick = pick[:300] + "..."
	}
	return pick
}

// prepareStateDir makes the engine's state directory (0700), gives it to
// the engine's user (and files an earlier in-process monitor left as
// root's), and opens it for the engine to work in.
func (s *MonitorSupervisor) prepareStateDir() (*os.File, error) {
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		return nil, err
	}
	if err := s.cred.own(s.stateDir); err != nil {
		return nil, err
	}
	return os.OpenFile(s.stateDir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
}

// Handler serves the engine's pages to the console (mounted at /monitor/
// behind sign-in): requested through its socket without the user's
// cookies or credentials, answered with only the headers a page needs,
// bounded in time and size. While the engine is down it is a page saying
// so, with the restart count and the last fault.
func (s *MonitorSupervisor) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.responsive() {
			s.unavailable(w, r, http.StatusServiceUnavailable)
			return
		}
		s.proxy.ServeHTTP(w, r)
	})
}

// rewrite sends the console's request on to the engine with nothing of the
// user's: no cookie, no Authorization header, no forwarding headers.
func (s *MonitorSupervisor) rewrite(pr *httputil.ProxyRequest) {
	pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = "http", "monitor", "monitor"
	h := http.Header{}
	for _, k := range []string{"Accept", "Accept-Language", "Content-Type"} {
		if v := pr.In.Header.Get(k); v != "" && len(v) <= 512 {
			h.Set(k, v)
		}
	}
	h.Set("User-Agent", "sensorcore-console")
	if f, ok := page.FrameFrom(pr.In.Context()); ok {
		if b, err := json.Marshal(f); err == nil {
			h.Set(MonitorFrameHeader, string(b))
		}
	}
	pr.Out.Header = h
}

// sanitizeMonitorResponse keeps what a page needs of the engine's answer
// (its type, a relative redirect) and nothing else: the console's own
// security headers stay the only ones; the body is capped.
func sanitizeMonitorResponse(resp *http.Response) error {
	h := http.Header{}
	switch ct := resp.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "text/html"), strings.HasPrefix(ct, "application/json"):
		h.Set("Content-Type", ct)
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	if loc := resp.Header.Get("Location"); loc != "" && !strings.Contains(loc, ":") && !strings.HasPrefix(loc, "//") {
		h.Set("Location", loc)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	resp.Header = h
	resp.ContentLength = -1
	resp.Body = limitedBody{io.LimitReader(resp.Body, maxMonitorResponse), resp.Body}
	return nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

var unavailableBody = page.New("monitor-unavailable", `<h1>Monitoring is {{if .Running}}not answering{{else}}restarting{{end}}</h1>
<p>The monitoring engine is {{if .Running}}not answering{{else}}restarting{{end}}; sensorcore starts it again by itself. The console, provisioning and the SSH listener are not affected.</p>
<p>Capture restarted {{.Restarts}} times.{{with .LastFault}} Last fault{{with $.LastFaultAt}} ({{when .}}){{end}}: <code>{{.}}</code>{{end}}</p>`)

func (s *MonitorSupervisor) unavailable(w http.ResponseWriter, r *http.Request, code int) {
	st := s.State()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", "5")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"error": "the monitoring engine is restarting", "restarts": st.Restarts, "last_fault": st.LastFault})
		return
	}
	nav := ""
	for _, n := range page.Nav {
		if strings.HasPrefix("/monitor"+r.URL.Path, n.Href) && n.Href != "/" {
			nav = n.Key
		}
	}
	page.Render(w, r, page.Page{Title: "Monitoring restarting", Nav: nav, Body: unavailableBody(), Data: st, Status: code})
}
