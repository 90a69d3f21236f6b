package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/plugin/offline"
)

func pluginCommand() *Command {
	return &Command{
		Name:    "plugin",
		Summary: "protocol plugins: keygen, sign, check, test",
		Description: "A protocol plugin describes a plant's own industrial protocol in one YAML file (docs/plugins.md). " +
			"Check and test it here, on the laptop, with the engine the sensor runs; sign it with the plant's plugin key; " +
			"then 'push --plugin' sends it to sensors that were given the key's public half ('push --plugin-key').",
		Examples: []Example{
			{"Develop on site: lint, decode a capture, sign", "tapline plugin check opcua.yaml\ntapline plugin test opcua.yaml plant.pcap\ntapline plugin sign opcua.yaml --key plugin-key/plugin-signing.key --passphrase-file pass.txt"},
		},
		Subs: []*Command{
			{
				Name:    "keygen",
				Summary: "make the plant's plugin signing key (encrypted) and its public key",
				Description: "Writes plugin-signing.key (Ed25519, encrypted PKCS#8 like the offline CA's keys, 0600) and plugin-signing.pub " +
					"(its public half with the name, for the provisioning bundle: push --plugin-key). Keep the key offline with the CA.",
				Groups:   []FlagGroup{{"The key", []string{"out DIR", "name NAME", "passphrase-file FILE"}}},
				Required: []string{"out", "name", "passphrase-file"},
				Examples: []Example{{"", "tapline plugin keygen --out plugin-key --name \"Plant A plugins\" --passphrase-file pass.txt"}},
				Run:      pluginKeygen,
			},
			{
				Name:        "sign",
				Summary:     "sign a plugin file (writes FILE.sig)",
				Description: "Checks the plugin (a plugin with errors is not signed), then writes FILE.sig: the file's SHA-256, size, protocol, version and the signer's name, signed with the plugin key.",
				Usage:       "FILE --key FILE --passphrase-file FILE [flags]",
				Groups:      []FlagGroup{{"The key", []string{"key FILE", "passphrase-file FILE", "signer NAME"}}, {"Output", []string{"out FILE"}}},
				Required:    []string{"key", "passphrase-file"},
				Examples:    []Example{{"", "tapline plugin sign examples/plugins/opcua/opcua.yaml --key plugin-key/plugin-signing.key --passphrase-file pass.txt"}},
				Run:         pluginSign,
			},
			{
				Name:        "check",
				Summary:     "validate and lint plugin files, with line numbers",
				Description: "Prints every error and warning as FILE:LINE:COLUMN: WHERE: MESSAGE. With --key, also verifies FILE.sig against that public key file.",
				Usage:       "FILE... [flags]",
				Groups:      []FlagGroup{{"Signature", []string{"key FILE"}}, outputGroup},
				Examples:    []Example{{"", "tapline plugin check examples/plugins/*/*.yaml"}},
				Exit:        []ExitCode{{ExitOK, "every file loads (warnings may remain)"}, {ExitVerdict, "a file has errors, or its signature is refused"}, {ExitUsage, "usage error, or a file that cannot be read"}},
				Run:         pluginCheck,
			},
			{
				Name:    "test",
				Summary: "decode captures with a plugin, as the sensor would",
				Description: "Runs the captures through sensorcore's own engine with the plugin loaded and prints the plugin protocol's counts, " +
					"its operations log and the alerts. --json prints what 'sensorcore analyze --json' prints, with the operations added.",
				Usage:    "FILE CAPTURE... [flags]",
				Groups:   []FlagGroup{outputGroup},
				Examples: []Example{{"", "tapline plugin test examples/plugins/c37118/c37118.yaml ../shared/pcaps/c37118/C37.118_1PMU_TCP.pcap"}},
				Exit:     []ExitCode{{ExitOK, "decoded, no PDU malformed"}, {ExitVerdict, "some PDUs are malformed, or a capture was not read to its end"}, {ExitUsage, "usage error, a plugin that does not load, or no capture read"}},
				Run:      pluginTest,
			},
		},
	}
}

func pluginPassphrase(env *Env, cmd, path string) ([]byte, bool) {
	p, err := certsReadPassphrase(path)
	if err != nil {
		env.Errorf("plugin %s: --passphrase-file: %v", cmd, err)
		return nil, false
	}
	if len(p) == 0 {
		env.Errorf("plugin %s: %s: the passphrase is empty", cmd, path)
		return nil, false
	}
	return p, true
}

func pluginKeygen(env *Env, args []string) int {
	fs := newFlags(env, "plugin keygen")
	dir := fs.String("out", "", "directory for plugin-signing.key and plugin-signing.pub (created, 0700)")
	name := fs.String("name", "", "the key's name, shown by sensors as the signer of what it signs (e.g. \"Plant A plugins\")")
	passFile := fs.String("passphrase-file", "", "file holding the passphrase that encrypts the key")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pass, ok := pluginPassphrase(env, "keygen", *passFile)
	if !ok {
		return ExitUsage
	}
	keyPath, pubPath := filepath.Join(*dir, plugin.SigningKeyFile), filepath.Join(*dir, plugin.PublicKeyFile)
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			env.Errorf("plugin keygen: %s exists; refusing to overwrite a signing key (choose another --out)", p)
			return ExitUsage
		}
	}
	priv, pub, err := plugin.GenerateKey(*name, pass)
	if err != nil {
		env.Errorf("plugin keygen: %v", err)
		return ExitUsage
	}
	if err := safefile.MkdirPrivate(*dir); err != nil {
		env.Errorf("plugin keygen: %v", err)
		return ExitUsage
	}
	if err := safefile.WriteFile(keyPath, priv, 0o600); err != nil {
		env.Errorf("plugin keygen: %v", err)
		return ExitUsage
	}
	if err := safefile.WriteFile(pubPath, pub, 0o644); err != nil {
		env.Errorf("plugin keygen: %v", err)
		return ExitUsage
	}
	keys, _ := plugin.ParseKeys(pub)
	fmt.Fprintf(env.Stdout, "plugin signing key %q (key %s) written to %s, encrypted; give sensors %s (push --plugin-key)\n", *name, keys[0].ID(), keyPath, pubPath)
	return ExitOK
}

func pluginSign(env *Env, args []string) int {
	fs := newFlags(env, "plugin sign")
	keyFile := fs.String("key", "", "the plugin signing key (plugin-signing.key)")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase")
	signer := fs.String("signer", "", "the signer's name (default: the name in the key's plugin-signing.pub beside it)")
	out := fs.String("out", "", "the signature file (default: FILE.sig)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 1 {
		env.Errorf("plugin sign: give exactly one plugin FILE; run 'tapline plugin sign --help'")
		return ExitUsage
	}
	pass, ok := pluginPassphrase(env, "sign", *passFile)
	if !ok {
		return ExitUsage
	}
	kb, err := safefile.ReadFile(*keyFile, 64<<10)
	if err != nil {
		env.Errorf("plugin sign: %v", err)
		return ExitUsage
	}
	key, err := plugin.ParseSigningKey(kb, pass)
	if err != nil {
		if errors.Is(err, certs.ErrIncorrectPassphrase) {
			env.Errorf("plugin sign: %s: the passphrase does not open the key (check --passphrase-file)", *keyFile)
		} else {
			env.Errorf("plugin sign: %s: %v", *keyFile, err)
		}
		return ExitUsage
	}
	name := *signer
	if name == "" {
		name, err = signerName(filepath.Join(filepath.Dir(*keyFile), plugin.PublicKeyFile), key.Public())
		if err != nil {
			env.Errorf("plugin sign: %v; give --signer NAME", err)
			return ExitUsage
		}
	}
	data, err := safefile.ReadFile(pos[0], plugin.MaxFileSize)
	if err != nil {
		env.Errorf("plugin sign: %v", err)
		return ExitUsage
	}
	sig, err := plugin.Sign(data, name, key, env.Now())
	if err != nil {
		env.Errorf("plugin sign: %s", pluginErrText(pos[0], err))
		return ExitUsage
	}
	if *out == "" {
		*out = pos[0] + plugin.SignatureSuffix
	}
	if err := safefile.WriteFile(*out, sig, 0o644); err != nil {
		env.Errorf("plugin sign: %v", err)
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "signed %s as %q: %s\n", pos[0], name, *out)
	return ExitOK
}

// signerName is the name the public key file beside a signing key gives
// it, when that file holds its public half.
func signerName(pubPath string, pub any) (string, error) {
	b, err := safefile.ReadFile(pubPath, 64<<10)
	if err != nil {
		return "", fmt.Errorf("no signer name: %v", err)
	}
	keys, err := plugin.ParseKeys(b)
	if err != nil {
		return "", fmt.Errorf("%s: %v", pubPath, err)
	}
	for _, k := range keys {
		if k.Public.Equal(pub) {
			return k.Name, nil
		}
	}
	return "", fmt.Errorf("%s is not this key's public half", pubPath)
}

// pluginErrText is a plugin error for the terminal, naming the file.
func pluginErrText(file string, err error) string {
	var pe *plugin.Error
	if errors.As(err, &pe) {
		pe.File = file
		return pe.Error()
	}
	return err.Error()
}

type checkResult struct {
	File      string           `json:"file"`
	OK        bool             `json:"ok"`
	Protocol  string           `json:"protocol,omitempty"`
	Version   string           `json:"version,omitempty"`
	Problems  []plugin.Problem `json:"problems"`
	Signature string           `json:"signature,omitempty"` // "verified by NAME (KEY)" or why refused
}

func pluginCheck(env *Env, args []string) int {
	fs := newFlags(env, "plugin check")
	keyFile := fs.String("key", "", "also verify FILE.sig against this public key file (plugin-signing.pub)")
	asJSON := fs.Bool("json", false, "print the results as a JSON array")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		env.Errorf("plugin check: give one or more plugin FILEs")
		return ExitUsage
	}
	var keys []plugin.Key
	if *keyFile != "" {
		b, err := safefile.ReadFile(*keyFile, 64<<10)
		if err == nil {
			keys, err = plugin.ParseKeys(b)
		}
		if err != nil {
			env.Errorf("plugin check: --key %s: %v", *keyFile, err)
			return ExitUsage
		}
	}
	code := ExitOK
	var results []checkResult
	for _, f := range files {
		data, err := safefile.ReadFile(f, plugin.MaxFileSize)
		if err != nil {
			env.Errorf("plugin check: %v", err)
			return ExitUsage
		}
		r := checkResult{File: f, OK: true, Problems: []plugin.Problem{}}
		p, err := plugin.Parse(data)
		var pe *plugin.Error
		switch {
		case errors.As(err, &pe):
			r.OK, r.Problems = false, pe.Problems
		case err != nil:
			r.OK, r.Problems = false, []plugin.Problem{{Message: err.Error()}}
		default:
			r.Protocol, r.Version, r.Problems = p.Name, p.Version, append(r.Problems, p.Warnings...)
		}
		if keys != nil {
			sig, _ := os.ReadFile(f + plugin.SignatureSuffix)
			if st, err := plugin.Verify(data, sig, keys); err != nil {
				r.OK, r.Signature = false, err.Error()
			} else {
				r.Signature = fmt.Sprintf("verified: signed by %q (key %s) on %s", st.Signer, st.KeyID, st.SignedAt.Format("2006-01-02"))
			}
		}
		if !r.OK {
			code = ExitVerdict
		}
		results = append(results, r)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(results)
		return code
	}
	for _, r := range results {
		for _, p := range r.Problems {
			if p.Line > 0 {
				fmt.Fprintf(env.Stdout, "%s:%s\n", r.File, p)
			} else {
				fmt.Fprintf(env.Stdout, "%s: %s\n", r.File, p)
			}
		}
		if r.Signature != "" {
			fmt.Fprintf(env.Stdout, "%s: signature: %s\n", r.File, r.Signature)
		}
		if r.OK {
			fmt.Fprintf(env.Stdout, "%s: ok: protocol %s, version %s\n", r.File, r.Protocol, r.Version)
		}
	}
	return code
}

func pluginTest(env *Env, args []string) int {
	fs := newFlags(env, "plugin test")
	asJSON := fs.Bool("json", false, "print the analysis as sensorcore analyze --json does, with \"operations\" added")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) < 2 {
		env.Errorf("plugin test: give the plugin FILE and at least one CAPTURE; run 'tapline plugin test --help'")
		return ExitUsage
	}
	data, err := safefile.ReadFile(pos[0], plugin.MaxFileSize)
	if err != nil {
		env.Errorf("plugin test: %v", err)
		return ExitUsage
	}
	res, err := offline.Run(pos[0], data, pos[1:])
	if err != nil {
		env.Errorf("plugin test: %s", strings.TrimPrefix(err.Error(), filepath.Base(pos[0])+":"))
		return ExitUsage
	}
	read := false
	code := ExitOK
	for _, f := range res.Report.Files {
		if f.Status != "unreadable" {
			read = true
		}
		if f.Status != "complete" {
			env.Errorf("plugin test: %s: %s", f.Path, f.Error)
			code = ExitVerdict
		}
	}
	if !read {
		return ExitUsage
	}
	if res.Counts.Malformed > 0 {
		code = ExitVerdict
	}
	if *asJSON {
		ops := make([]json.RawMessage, len(res.Operations))
		for i, o := range res.Operations {
			ops[i] = o.Raw
		}
		b, _ := json.Marshal(res.Report)
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		ob, _ := json.Marshal(ops)
		m["operations"] = ob
		enc := json.NewEncoder(env.Stdout)
		enc.Encode(m)
		return code
	}
	c := res.Counts
	fmt.Fprintf(env.Stdout, "%s: %d PDUs, %d malformed", res.Protocol, c.PDUs, c.Malformed)
	if c.MalformedByPlugin > 0 {
		fmt.Fprintf(env.Stdout, " (%d at a bound of the plugin)", c.MalformedByPlugin)
	}
	fmt.Fprintln(env.Stdout)
	if len(c.Functions) > 0 {
		fmt.Fprintf(env.Stdout, "functions: %s\n", countList(c.Functions))
	}
	names := make([]string, 0, len(c.Fields))
	for n := range c.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(env.Stdout, "%s: %s\n", n, countList(c.Fields[n]))
	}
	fmt.Fprintf(env.Stdout, "%d operations:\n", len(res.Operations))
	for _, o := range res.Operations {
		fmt.Fprintf(env.Stdout, "  %s %s -> %s %s", o.Time, o.Client, o.Server, o.FunctionName)
		if o.Function != nil {
			fmt.Fprintf(env.Stdout, "(%d)", *o.Function)
		}
		keys := make([]string, 0, len(o.Fields))
		for k := range o.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(env.Stdout, " %s=%v", k, o.Fields[k])
		}
		fmt.Fprintf(env.Stdout, " %s\n", o.Result)
	}
	n := 0
	for _, a := range res.Report.Alerts {
		if a.Protocol == res.Protocol {
			n++
		}
	}
	fmt.Fprintf(env.Stdout, "%d alerts:\n", n)
	for _, a := range res.Report.Alerts {
		if a.Protocol == res.Protocol {
			fmt.Fprintf(env.Stdout, "  %s %s ×%d: %s\n", a.Severity, a.Title, a.Count, a.Message)
		}
	}
	return code
}

// countList is "KEY×N ..." in key order (numbers by value).
func countList(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) && isDigits(keys[i]) && isDigits(keys[j]) {
			return len(keys[i]) < len(keys[j])
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
