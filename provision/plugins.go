package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tapline/tapline/sensorcore/plugin"
)

// StepPlugins installs the row's signed protocol plugins (the inventory's
// plugins column, push --plugin) once the sensor runs the pushed
// generation, whose bundle gave it the plant's plugin key.
const StepPlugins Step = "plugins"

// PluginFile is a signed protocol plugin on its way to a sensor.
type PluginFile struct {
	Name     string // the file's base name, NAME.yaml
	Data     []byte
	Sig      []byte // NAME.yaml.sig
	Protocol string
	Version  string
}

// PluginInstall is what the sensor said of one plugin (sensorcore plugin
// install --json).
type PluginInstall struct {
	File     string `json:"file"`
	Protocol string `json:"protocol"`
	Version  string `json:"version"`
	Signer   string `json:"signer,omitempty"`
	KeyID    string `json:"key_id,omitempty"`
	Replaced string `json:"replaced,omitempty"`
}

// LoadPlugins reads signed plugin files (each with FILE.sig beside it)
// and checks them as the sensor will: each must load and, when keyFile is
// given (the plugin key the same bundle carries), verify against it. A
// plugin the sensor would refuse never travels.
func LoadPlugins(paths []string, keyFile []byte) ([]PluginFile, error) {
	var keys []plugin.Key
	if len(keyFile) > 0 {
		var err error
		if keys, err = plugin.ParseKeys(keyFile); err != nil {
			return nil, fmt.Errorf("plugin_key: %w", err)
		}
	}
	seen := map[string]string{}
	var out []PluginFile
	for _, p := range paths {
		name := filepath.Base(p)
		if !plugin.IsPluginFile(name) {
			return nil, fmt.Errorf("plugins: %s is not a plugin file (NAME.yaml)", p)
		}
		if other, ok := seen[name]; ok {
			return nil, fmt.Errorf("plugins: %s and %s have the same file name; one plugin per name", other, p)
		}
		seen[name] = p
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("plugins: %w", err)
		}
		if fi.Size() > plugin.MaxFileSize {
			return nil, fmt.Errorf("plugins: %s is %d bytes, over %d", p, fi.Size(), plugin.MaxFileSize)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("plugins: %w", err)
		}
		sig, err := os.ReadFile(p + plugin.SignatureSuffix)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("plugins: %s is not signed (no %s beside it): sign it with tapline plugin sign", p, name+plugin.SignatureSuffix)
		}
		if err != nil {
			return nil, fmt.Errorf("plugins: %w", err)
		}
		if len(sig) > plugin.MaxSignatureSize {
			return nil, fmt.Errorf("plugins: %s%s is over %d bytes", p, plugin.SignatureSuffix, plugin.MaxSignatureSize)
		}
		pl, err := plugin.Parse(data)
		if err != nil {
			var pe *plugin.Error
			if errors.As(err, &pe) {
				pe.File = p
			}
			return nil, err
		}
		if keys != nil {
			st, err := plugin.Verify(data, sig, keys)
			if err != nil {
				return nil, fmt.Errorf("plugins: %s: %w", p, err)
			}
			if st.Plugin != pl.Name || st.Version != pl.Version {
				return nil, fmt.Errorf("plugins: %s: the signature names %s %s, the file %s %s", p, st.Plugin, st.Version, pl.Name, pl.Version)
			}
		}
		out = append(out, PluginFile{Name: name, Data: data, Sig: sig, Protocol: pl.Name, Version: pl.Version})
	}
	return out, nil
}

// pluginsStep uploads each plugin with its signature (the signature
// first) and has the sensor install it; the sensor verifies it against
// its plugin key before placing it. The first refusal ends the push.
func (p *pusher) pluginsStep(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			p.res.Outcome = OutcomeFailed // the generation is verified; its plugins are not all there
		}
	}()
	sc, err := NewSFTP(p.c.Client)
	if err != nil {
		return err
	}
	defer sc.Close()
	for i, f := range p.b.Plugins {
		if _, err := UploadBytes(ctx, sc, f.Sig, p.o.IncomingDir, f.Name+plugin.SignatureSuffix, nil); err != nil {
			return err
		}
		if _, err := UploadBytes(ctx, sc, f.Data, p.o.IncomingDir, f.Name, nil); err != nil {
			return err
		}
		var r PluginInstall
		if err = runJSON(ctx, p.c.Client, p.o.Core, &r, "plugin", "install", "--json", f.Name); err != nil {
			var re *RemoteError
			if errors.As(err, &re) && re.Exit > 0 {
				return fmt.Errorf("the sensor refused plugin %s (%s %s): %s", f.Name, f.Protocol, f.Version, re.Message)
			}
			return err
		}
		p.res.Plugins = append(p.res.Plugins, r)
		line := fmt.Sprintf("plugin %s %s installed, signed by %q", r.Protocol, r.Version, r.Signer)
		if r.Replaced != "" {
			line += " (was " + r.Replaced + ")"
		}
		p.emit(StepPlugins, float64(i+1)*100/float64(len(p.b.Plugins)), 0, line)
	}
	return nil
}
