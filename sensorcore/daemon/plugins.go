package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/generation"
	"github.com/tapline/tapline/sensorcore/plugin"
)

// Protocol plugins on the appliance (docs/plugins.md, "On the sensor"):
// `sensorcore plugin install` verifies an uploaded plugin against the
// plugin signing key of the current generation (the bundle's
// plugin-signing.pub) and places it in the plugin directory; serve
// watches that directory and hands the plugins to the monitoring engine,
// which verifies them again and loads them without a restart.

// Refusal codes of plugin install and of the bundle's plugin key.
const (
	CodePluginKey = "TL-APP-013" // the bundle's plugin-signing.pub is not a plugin public key
	CodePlugin    = "TL-APP-014" // a plugin refused by install: unsigned, untrusted key, altered, or invalid
)

// Plugins is the directory of the installed protocol plugins (0700, root's).
func (l Layout) Plugins() string { return filepath.Join(l.State(), "plugins") }

// PluginKeys returns the plugin signing keys of the current generation;
// none before a bundle gave one.
func (e *Engine) PluginKeys() ([]plugin.Key, error) {
	b, err := e.pluginKeyFile()
	if err != nil || b == nil {
		return nil, err
	}
	return plugin.ParseKeys(b)
}

// pluginKeyFile is the current generation's plugin-signing.pub; nil when
// it has none.
func (e *Engine) pluginKeyFile() ([]byte, error) {
	st := e.Layout.Store()
	n, err := st.Current()
	if errors.Is(err, generation.ErrNone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := st.ReadFile(n, bundle.FileName(bundle.RolePluginKey))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// PluginKeyInfo names a plugin signing key the sensor trusts.
type PluginKeyInfo struct {
	Name  string `json:"name"`
	KeyID string `json:"key_id"`
}

// pluginKeyInfos lists the current generation's plugin keys.
func (e *Engine) pluginKeyInfos() []PluginKeyInfo {
	keys, _ := e.PluginKeys()
	var out []PluginKeyInfo
	for _, k := range keys {
		out = append(out, PluginKeyInfo{Name: k.Name, KeyID: k.ID()})
	}
	return out
}

// MonitorPluginsPath is the engine's route taking the plugins to run
// (POST, a PluginInput as JSON); it answers the plugin.Status.
const MonitorPluginsPath = "/engine/plugins"

// PluginInput is what serve gives the engine: the plugin directory's
// files with their signatures, the plugin key file to verify them
// against (the engine verifies every one again), and, for a file on disk
// that no longer passes its check, the version of it serve accepted
// before (plugin.Set.ApplyAccepted).
type PluginInput struct {
	Files    []plugin.File `json:"files"`
	Accepted []plugin.File `json:"accepted,omitempty"`
	KeyFile  []byte        `json:"key_file,omitempty"`
}

// MaxPluginInput bounds a PluginInput's JSON: the most plugins a
// directory holds, each at its bounds, twice (on disk and accepted), in
// base64.
const MaxPluginInput = 2*plugin.MaxDirFiles*(plugin.MaxFileSize+plugin.MaxSignatureSize)*4/3 + 1<<16

// pluginFeed is what the engine should run, as serve last read it.
type pluginFeed struct {
	e    *Engine
	kick chan struct{} // a new input: send it now

	mu      sync.Mutex
	in      *PluginInput
	digest  string
	readErr string
	sent    plugin.Status // the engine's last answer, for the log
	// accepted is, by file name, the last version of each plugin file
	// that passed its check (signature against the current keys, parse):
	// what a new engine is given when the file on disk was changed since.
	accepted map[string]plugin.File
	// tampered is, by file name, the digest of the failing file last
	// reported, so that each change is logged once.
	tampered map[string]string
}

// pluginReadEvery is how often serve reads the plugin directory.
const pluginReadEvery = time.Second

// watchPlugins reads the plugin directory and the plugin key every
// pluginReadEvery; a change is sent to the engine at once.
func (s *MonitorSupervisor) watchPlugins(ctx context.Context) {
	t := time.NewTicker(pluginReadEvery)
	defer t.Stop()
	for {
		s.readPlugins()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *MonitorSupervisor) readPlugins() {
	f := &s.plugins
	files, err := f.e.Layout.PluginFiles()
	var keyFile []byte
	if err == nil {
		keyFile, err = f.e.pluginKeyFile()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		// The plugins running stay: a directory that cannot be read is
		// no reason to stop decoding.
		if msg := err.Error(); msg != f.readErr {
			f.readErr = msg
			s.o.Log("plugins: %v; the plugins loaded keep running", err)
		}
		return
	}
	f.readErr = ""
	var keys []plugin.Key
	if len(keyFile) > 0 {
		keys, _ = plugin.ParseKeys(keyFile)
	}
	d := plugin.Digest(files, keys)
	if d == f.digest {
		return
	}
	f.in, f.digest = &PluginInput{Files: files, Accepted: f.keepAccepted(s.o.Log, files, keys), KeyFile: keyFile}, d
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// keepAccepted records the files that pass their check as accepted, and
// returns the accepted versions of those that do not (logging each
// changed file once). Accepted versions of files gone from the directory
// are forgotten, as are those the current keys no longer verify.
func (f *pluginFeed) keepAccepted(logf func(string, ...any), files []plugin.File, keys []plugin.Key) []plugin.File {
	if f.accepted == nil {
		f.accepted, f.tampered = map[string]plugin.File{}, map[string]string{}
	}
	var out []plugin.File
	present := map[string]bool{}
	for _, file := range files {
		present[file.Name] = true
		_, err := plugin.Check(file, keys)
		if err == nil {
			f.accepted[file.Name] = file
			delete(f.tampered, file.Name)
			continue
		}
		a, ok := f.accepted[file.Name]
		if !ok {
			continue
		}
		st, aerr := plugin.Check(a, keys)
		if aerr != nil {
			delete(f.accepted, file.Name)
			continue
		}
		out = append(out, a)
		sum := plugin.Digest([]plugin.File{file}, nil)
		if f.tampered[file.Name] != sum {
			f.tampered[file.Name] = sum
			logf("plugins: %s in the plugin directory fails its check (%v): changed on disk since it was accepted; the monitoring engine keeps %s %s as accepted", file.Name, err, st.Plugin, st.Version)
		}
	}
	for name := range f.accepted {
		if !present[name] {
			delete(f.accepted, name)
			delete(f.tampered, name)
		}
	}
	return out
}

// sendPlugins gives the engine the plugins when it runs other ones than
// serve read (have is its last report); it returns the engine's status.
func (s *MonitorSupervisor) sendPlugins(ctx context.Context, have *plugin.Status, timeout time.Duration) (*plugin.Status, bool) {
	f := &s.plugins
	f.mu.Lock()
	in, d := f.in, f.digest
	f.mu.Unlock()
	if in == nil || (have != nil && have.Digest == d) {
		return nil, false
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://monitor"+MonitorPluginsPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		s.o.Log("plugins: giving the monitoring engine its plugins: %v; trying again", err)
		return nil, false
	}
	defer resp.Body.Close()
	var st plugin.Status
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st) != nil {
		s.o.Log("plugins: the monitoring engine answered %s; trying again", resp.Status)
		return nil, false
	}
	f.mu.Lock()
	logPluginChanges(s.o.Log, f.sent, st)
	f.sent = st
	f.mu.Unlock()
	return &st, true
}

// logPluginChanges logs what the engine loaded, replaced, removed and
// refused since its previous answer.
func logPluginChanges(logf func(string, ...any), before, after plugin.Status) {
	old := map[string]plugin.Loaded{}
	for _, l := range before.Loaded {
		old[l.File] = l
	}
	for _, l := range after.Loaded {
		if o, ok := old[l.File]; !ok || o.SHA256 != l.SHA256 {
			logf("plugins: %s loaded: %s %s, signed by %q (key %s)", l.File, l.Protocol, l.Version, l.Signer, l.KeyID)
		}
		delete(old, l.File)
	}
	for _, l := range old {
		logf("plugins: %s removed: %s no longer decoded", l.File, l.Protocol)
	}
	wasRefused := map[string]string{}
	for _, r := range before.Refused {
		wasRefused[r.File] = r.Reason
	}
	for _, r := range after.Refused {
		if wasRefused[r.File] == r.Reason {
			continue
		}
		if r.Running != "" {
			logf("plugins: %s refused (version %s keeps running): %s", r.File, r.Running, r.Reason)
		} else {
			logf("plugins: %s refused: %s", r.File, r.Reason)
		}
	}
}

// Plugins is what the running engine loaded and refused; nil while it is
// down or has not answered.
func (s *MonitorSupervisor) Plugins() *plugin.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.Running || s.health.Plugins == nil {
		return nil
	}
	p := *s.health.Plugins
	return &p
}

// PluginFiles reads the installed plugins with their signatures.
func (l Layout) PluginFiles() ([]plugin.File, error) {
	return plugin.ReadDir(l.Plugins())
}

// keptPluginKey is the current generation's plugin key file when a new
// bundle brings none: the key stays across generations until a bundle
// replaces it.
func (e *Engine) keptPluginKey(prev int) []byte {
	if prev <= 0 {
		return nil
	}
	b, err := e.Layout.Store().ReadFile(prev, bundle.FileName(bundle.RolePluginKey))
	if err != nil {
		return nil
	}
	return b
}

// checkPluginKey refuses a bundle whose plugin key file is not one.
func checkPluginKey(b *bundle.Bundle) error {
	d := b.File(bundle.RolePluginKey)
	if len(d) == 0 {
		return nil
	}
	if _, err := plugin.ParseKeys(d); err != nil {
		return &Refusal{CodePluginKey, fmt.Sprintf("%s: %v; give the public key tapline plugin keygen wrote", bundle.FileName(bundle.RolePluginKey), err)}
	}
	return nil
}

// PluginResult is what plugin install and remove report.
type PluginResult struct {
	OK       bool   `json:"ok"`
	Code     string `json:"code,omitempty"`
	Error    string `json:"error,omitempty"`
	File     string `json:"file,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Version  string `json:"version,omitempty"`
	Signer   string `json:"signer,omitempty"`
	KeyID    string `json:"key_id,omitempty"`
	// Replaced is the version of the same file installed before, if any.
	Replaced string `json:"replaced,omitempty"`
	Removed  bool   `json:"removed,omitempty"`
}

var pluginFileName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.ya?ml$`) })

// InstallPlugin verifies the uploaded plugin at path (and path.sig)
// against the current generation's plugin keys, checks that it loads, and
// places both in the plugin directory; the uploads go in any case. A
// refused plugin changes nothing: the version installed before stays.
func (e *Engine) InstallPlugin(path string) (*PluginResult, error) {
	res := &PluginResult{}
	refuse := func(code, msg string) (*PluginResult, error) {
		r := &Refusal{code, msg}
		res.Code, res.Error = code, msg
		return res, r
	}
	p, err := e.resolve(path)
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return refuse(r.Code, r.Msg)
		}
		return refuse(CodePath, err.Error())
	}
	defer e.removeUpload(p, p+plugin.SignatureSuffix)
	name := filepath.Base(p)
	res.File = name
	if !pluginFileName().MatchString(name) {
		return refuse(CodePlugin, fmt.Sprintf("%s: a plugin file is named NAME.yaml (letters, digits, . _ -; at most 64)", name))
	}
	data, err := safefile.ReadFile(p, plugin.MaxFileSize)
	if err != nil {
		return refuse(CodePlugin, fmt.Sprintf("%s: %v", name, err))
	}
	sig, err := safefile.ReadFile(p+plugin.SignatureSuffix, plugin.MaxSignatureSize)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return refuse(CodePlugin, fmt.Sprintf("%s%s: %v", name, plugin.SignatureSuffix, err))
	}
	keys, err := e.PluginKeys()
	if err != nil {
		return refuse(CodeInternal, "the plugin signing key of the current generation: "+err.Error())
	}
	st, err := plugin.Verify(data, sig, keys)
	if err != nil {
		return refuse(CodePlugin, name+": "+err.Error())
	}
	pl, err := plugin.Parse(data)
	if err != nil {
		var pe *plugin.Error
		if errors.As(err, &pe) {
			pe.File = name
		}
		return refuse(CodePlugin, err.Error())
	}
	if st.Plugin != pl.Name || st.Version != pl.Version {
		return refuse(CodePlugin, fmt.Sprintf("%s: the signature names %s %s, the file %s %s", name, st.Plugin, st.Version, pl.Name, pl.Version))
	}
	dir := e.Layout.Plugins()
	installed, err := e.Layout.PluginFiles()
	if err != nil {
		return refuse(CodeInternal, err.Error())
	}
	for _, f := range installed {
		if f.Name == name {
			if old, err := plugin.Parse(f.Data); err == nil {
				res.Replaced = old.Version
			}
			continue
		}
		if old, err := plugin.Parse(f.Data); err == nil && old.Name == pl.Name {
			return refuse(CodePlugin, fmt.Sprintf("%s: protocol %q is already installed as %s; install it under that name to replace it, or remove that one", name, pl.Name, f.Name))
		}
	}
	if len(installed) >= plugin.MaxDirFiles && res.Replaced == "" {
		return refuse(CodePlugin, fmt.Sprintf("%d plugins are installed, the most a sensor takes; remove one first", len(installed)))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return refuse(CodeInternal, err.Error())
	}
	// The signature first: serve reads the pair when the plugin file
	// changes, and a new signature beside the old plugin is refused for a
	// moment (the old version keeps running) rather than the reverse.
	if err := safefile.WriteFile(filepath.Join(dir, name+plugin.SignatureSuffix), sig, 0o600); err != nil {
		return refuse(CodeInternal, err.Error())
	}
	if err := safefile.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		return refuse(CodeInternal, err.Error())
	}
	e.signalReload()
	res.OK, res.Protocol, res.Version, res.Signer, res.KeyID = true, pl.Name, pl.Version, st.Signer, st.KeyID
	e.Log("plugin %s installed: %s %s signed by %q (key %s)", name, pl.Name, pl.Version, st.Signer, st.KeyID)
	return res, nil
}

// RemovePlugin removes an installed plugin (by its file name or its
// protocol's name); the monitoring engine stops decoding it.
func (e *Engine) RemovePlugin(which string) (*PluginResult, error) {
	res := &PluginResult{}
	files, err := e.Layout.PluginFiles()
	if err != nil {
		res.Code, res.Error = CodeInternal, err.Error()
		return res, &Refusal{CodeInternal, err.Error()}
	}
	for _, f := range files {
		proto := ""
		if p, err := plugin.Parse(f.Data); err == nil {
			proto = p.Name
		}
		if f.Name != which && proto != which && strings.TrimSuffix(strings.TrimSuffix(f.Name, ".yaml"), ".yml") != which {
			continue
		}
		dir := e.Layout.Plugins()
		if err := os.Remove(filepath.Join(dir, f.Name)); err != nil {
			res.Code, res.Error = CodeInternal, err.Error()
			return res, &Refusal{CodeInternal, err.Error()}
		}
		os.Remove(filepath.Join(dir, f.Name+plugin.SignatureSuffix))
		safefile.SyncDir(dir)
		e.signalReload()
		res.OK, res.Removed, res.File, res.Protocol = true, true, f.Name, proto
		e.Log("plugin %s removed", f.Name)
		return res, nil
	}
	msg := fmt.Sprintf("no installed plugin is named %q (sensorcore status lists them)", which)
	res.Code, res.Error = CodePlugin, msg
	return res, &Refusal{CodePlugin, msg}
}

// pluginsStatus is status's plugins member: nil when the sensor has no
// plugin key and no plugin installed.
func (e *Engine) pluginsStatus(ri RunInfo, alive bool) *PluginsStatus {
	ps := &PluginsStatus{Keys: e.pluginKeyInfos(), Installed: []string{}, Loaded: []plugin.Loaded{}}
	files, _ := e.Layout.PluginFiles()
	for _, f := range files {
		ps.Installed = append(ps.Installed, f.Name)
	}
	if alive && ri.Plugins != nil {
		ps.Engine, ps.Loaded, ps.Refused = true, ri.Plugins.Loaded, ri.Plugins.Refused
	}
	if len(ps.Keys) == 0 && len(ps.Installed) == 0 && len(ps.Loaded) == 0 {
		return nil
	}
	return ps
}
