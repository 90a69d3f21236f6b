package sshconn

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"

	"github.com/tapline/tapline/internal/safefile"
)

// HostSettings are how to reach one host: what the caller (an inventory
// row, the wizard) gives, completed by SSHConfig.Resolve from the user's
// ~/.ssh/config. Zero values are "not set".
type HostSettings struct {
	// HostName is the address to connect to (OpenSSH's HostName); empty:
	// the host as named.
	HostName string
	User     string
	Port     int
	// IdentityFiles are key files with ~ and %-tokens expanded, in the
	// order OpenSSH tries them.
	IdentityFiles []string
	// KnownHostsFiles are the known_hosts files (UserKnownHostsFile),
	// expanded; new keys go to the first.
	KnownHostsFiles []string
	// IdentitiesOnly: only keys of IdentityFiles are offered, even from an
	// agent holding others.
	IdentitiesOnly bool
	// Jump is a jump host the caller gives ([user@]host[:port]); with one,
	// the config's ProxyJump/ProxyCommand are overridden, not refused.
	Jump string
}

// AgentKeys are the key files whose keys alone an agent may offer: with
// IdentitiesOnly, those of IdentityFiles that exist; nil without it.
func (h HostSettings) AgentKeys() []string {
	if !h.IdentitiesOnly {
		return nil
	}
	out := []string{}
	for _, p := range h.IdentityFiles {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out
}

// SSHConfig is an OpenSSH client configuration file (~/.ssh/config, on
// Windows %USERPROFILE%\.ssh\config as OpenSSH for Windows reads it).
// Its syntax is read by github.com/kevinburke/ssh_config; host matching,
// Include and token expansion follow ssh_config(5).
type SSHConfig struct {
	// Path is the file, as messages name it.
	Path  string
	cfg   *ssh_config.Config
	match map[int]*matchLine // the Match lines, by line number
	home  string
}

// maxSSHConfig bounds a configuration file's size.
const maxSSHConfig = 4 << 20

// maxIncludeDepth is OpenSSH's limit on nested Include (READCONF_MAX_DEPTH).
const maxIncludeDepth = 16

// DefaultSSHConfigFile is ~/.ssh/config, where ~ is the home folder
// (%USERPROFILE% on Windows).
func DefaultSSHConfigFile() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("sshconn: no home folder for ~/.ssh/config: %w", err)
	}
	return filepath.Join(home, ".ssh", "config"), nil
}

// LoadSSHConfig reads the user's ~/.ssh/config; a missing file is an empty
// configuration.
func LoadSSHConfig() (*SSHConfig, error) {
	p, err := DefaultSSHConfigFile()
	if err != nil {
		return nil, err
	}
	return ReadSSHConfig(p)
}

// ReadSSHConfig reads an OpenSSH client configuration file; a missing file
// is an empty configuration. Include directives are read when a host
// matches, as OpenSSH does.
func ReadSSHConfig(path string) (*SSHConfig, error) {
	home, _ := os.UserHomeDir()
	c := &SSHConfig{Path: path, home: home}
	cfg, match, err := parseSSHConfig(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	c.cfg, c.match = cfg, match
	return c, nil
}

// parseSSHConfig reads one configuration file; its Match lines are kept
// apart and its Include lines followed by the resolver (sshconfig_match.go).
func parseSSHConfig(path string) (*ssh_config.Config, map[int]*matchLine, error) {
	raw, err := safefile.ReadFile(path, maxSSHConfig)
	if err != nil {
		return nil, nil, err
	}
	raw, match, err := rewriteConfig(path, raw)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := ssh_config.DecodeBytes(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("sshconn: %s: %v: fix the file or remove the line", path, strings.TrimSpace(err.Error()))
	}
	return cfg, match, nil
}

// ConfigError says a configuration line asks for something Tapline does
// not do, or cannot be read: the file, its line, the directive and why.
type ConfigError struct {
	File      string
	Line      int
	Directive string
	Msg       string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s line %d: %s: %s", e.File, e.Line, e.Directive, e.Msg)
}

// refused are the directives Tapline does not carry out, with why and
// what to do instead. Ignoring one would connect otherwise than the user
// asked (directly instead of through a proxy, with weaker host checks).
var refused = map[string]string{
	"proxyjump":         "Tapline does not take jump hosts from the SSH configuration (it would connect directly): give the inventory's jump column, or remove the line",
	"proxycommand":      "Tapline does not run proxy commands (it would connect directly): give the inventory's jump column, or remove the line",
	"hostkeyalias":      "Tapline checks host keys under the host's own name: remove the line",
	"knownhostscommand": "Tapline does not run commands for host keys: use UserKnownHostsFile",
	"certificatefile":   "Tapline signs in with plain keys, not SSH certificates: remove the line or give key_file",
}

// Resolve completes given for host (the name an inventory or the wizard
// uses) from the Host (and Match host) blocks that match it: every setting
// given wins over the configuration (inventory > ~/.ssh/config >
// defaults). A directive Tapline does not carry out, a token it does not
// expand or a StrictHostKeyChecking that would weaken host checks fails
// with a *ConfigError naming the file and line.
func (c *SSHConfig) Resolve(host string, given HostSettings) (HostSettings, error) {
	out := given
	if c == nil || c.cfg == nil {
		return out, nil
	}
	r := resolver{host: strings.ToLower(host), givenUser: given.User, home: c.home, seen: map[string]bool{filepath.Clean(c.Path): true}}
	if err := r.walk(c.Path, c.cfg, c.match, 0); err != nil {
		return out, err
	}
	if out.HostName == "" && r.hostName.val != "" {
		h, err := r.expand(r.hostName, host, host, "", 0, false)
		if err != nil {
			return out, err
		}
		out.HostName = h
	}
	if out.User == "" {
		out.User = r.user.val
	}
	if out.Port == 0 && r.port.val != "" {
		n, err := strconv.Atoi(r.port.val)
		if err != nil || n < 1 || n > 65535 {
			return out, &ConfigError{r.port.file, r.port.line, "Port", fmt.Sprintf("%q is not a port (1-65535)", r.port.val)}
		}
		out.Port = n
	}
	if v := r.idOnly.val; v != "" {
		switch strings.ToLower(v) {
		case "yes", "true":
			out.IdentitiesOnly = true
		case "no", "false":
		default:
			return out, &ConfigError{r.idOnly.file, r.idOnly.line, "IdentitiesOnly", fmt.Sprintf("%q: use yes or no", v)}
		}
	}
	if v := strings.ToLower(r.canon.val); v == "yes" || v == "always" {
		return out, &ConfigError{r.canon.file, r.canon.line, "CanonicalizeHostname " + r.canon.val,
			"Tapline does not canonicalise host names, so Host blocks would match otherwise than in ssh: remove the line, or give the sensor's full name or address"}
	}
	if v := strings.ToLower(r.strict.val); v == "no" || v == "off" || v == "false" {
		return out, &ConfigError{r.strict.file, r.strict.line, "StrictHostKeyChecking " + r.strict.val,
			"Tapline never connects to a host whose key it cannot check: remove the line (new hosts are accepted by fingerprint, --accept-new)"}
	}
	if given.Jump == "" {
		for _, p := range []setting{r.proxyJump, r.proxyCommand} {
			if p.val != "" && !strings.EqualFold(p.val, "none") {
				return out, &ConfigError{p.file, p.line, p.key, refused[strings.ToLower(p.key)]}
			}
		}
	}
	if len(r.refused) > 0 {
		p := r.refused[0]
		return out, &ConfigError{p.file, p.line, p.key, refused[strings.ToLower(p.key)]}
	}
	hn := out.HostName
	if hn == "" {
		hn = host
	}
	port := out.Port
	if port == 0 {
		port = 22
	}
	if len(given.IdentityFiles) == 0 {
		for _, s := range r.identity {
			if strings.EqualFold(s.val, "none") {
				continue
			}
			p, err := r.expand(s, host, hn, out.User, port, true)
			if err != nil {
				return out, err
			}
			out.IdentityFiles = append(out.IdentityFiles, p)
		}
	}
	if len(given.KnownHostsFiles) == 0 && r.knownHosts.val != "" {
		files, err := splitQuoted(r.knownHosts)
		if err != nil {
			return out, err
		}
		for _, f := range files {
			s := r.knownHosts
			s.val = f
			// A known_hosts that keeps nothing would make every host new
			// on every connection: trust on first use each time.
			if f == "/dev/null" || strings.EqualFold(f, "NUL") || strings.EqualFold(f, "none") {
				return out, &ConfigError{s.file, s.line, "UserKnownHostsFile " + f,
					"Tapline keeps the host keys it trusts: name a real file, or remove the line"}
			}
			p, err := r.expand(s, host, hn, out.User, port, true)
			if err != nil {
				return out, err
			}
			out.KnownHostsFiles = append(out.KnownHostsFiles, p)
		}
	}
	return out, nil
}

// setting is one directive's value and where it was written.
type setting struct {
	key, val string
	file     string
	line     int
}

// resolver gathers the settings for one host, first value wins (ssh_config(5)).
type resolver struct {
	host      string
	givenUser string // the remote user the inventory or the wizard gives
	home      string
	seen      map[string]bool // included files on the current path

	hostName, user, port, idOnly, strict, knownHosts, proxyJump, proxyCommand, canon setting
	identity                                                                         []setting
	refused                                                                          []setting
}

func (r *resolver) walk(file string, cfg *ssh_config.Config, match map[int]*matchLine, depth int) error {
	if depth > maxIncludeDepth {
		return &ConfigError{file, 0, "Include", fmt.Sprintf("nested over %d levels deep (an Include loop?)", maxIncludeDepth)}
	}
	for _, h := range cfg.Hosts {
		if line, m := matchLineOf(h, match); m != nil {
			out, attr := r.decide(m)
			if out == matchNo {
				continue
			}
			if out == matchUndecided {
				if at, key, ok := readsAny(h); ok {
					return &ConfigError{file, line, m.text, fmt.Sprintf("Tapline cannot tell whether this block applies to %s (%s), and it sets %s (line %d): "+
						"move that setting into a Host block, give it in the inventory, or remove the line", r.host, undecidedWhy(attr), key, at)}
				}
				continue // it sets nothing Tapline reads
			}
		} else if !r.matches(h) {
			continue
		}
		for _, n := range h.Nodes {
			line := n.Pos().Line
			switch n := n.(type) {
			case *ssh_config.KV:
				if strings.EqualFold(n.Key, includeKeyword) {
					if err := r.include(file, line, n.Value, depth); err != nil {
						return err
					}
				} else if err := r.take(setting{key: n.Key, val: n.Value, file: file, line: line}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// matches says whether a Host block applies: OpenSSH's pattern list (*
// and ? wildcards, ! negates and wins) against the host as named. Match
// blocks are decided by resolver.decide.
func (r *resolver) matches(h *ssh_config.Host) bool {
	found := false
	for _, p := range h.Patterns {
		pat := strings.ToLower(p.String())
		neg := strings.HasPrefix(pat, "!")
		if neg {
			pat = pat[1:]
		}
		if globMatch(pat, r.host) {
			if neg {
				return false
			}
			found = true
		}
	}
	return found
}

// globMatch is OpenSSH's match_pattern: * any run of characters, ? exactly one.
func globMatch(pat, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pat) || sx < len(s) {
		if px < len(pat) {
			switch pat[px] {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == pat[px] {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func (r *resolver) take(s setting) error {
	first := func(dst *setting) {
		if dst.val == "" {
			*dst = s
		}
	}
	switch k := strings.ToLower(s.key); k {
	case "hostname":
		first(&r.hostName)
	case "user":
		first(&r.user)
	case "port":
		first(&r.port)
	case "identitiesonly":
		first(&r.idOnly)
	case "stricthostkeychecking":
		first(&r.strict)
	case "userknownhostsfile":
		first(&r.knownHosts)
	case "proxyjump":
		if r.proxyJump.val == "" && r.proxyCommand.val == "" {
			r.proxyJump = s
		}
	case "proxycommand":
		if r.proxyJump.val == "" && r.proxyCommand.val == "" {
			r.proxyCommand = s
		}
	case "identityfile":
		r.identity = append(r.identity, s)
	case "canonicalizehostname":
		first(&r.canon)
	default:
		if _, ok := refused[k]; ok && !strings.EqualFold(s.val, "none") {
			r.refused = append(r.refused, s)
		}
	}
	return nil
}

// include reads the files an Include names (relative ones under ~/.ssh,
// globs sorted) and walks them where the directive stands.
func (r *resolver) include(file string, line int, args string, depth int) error {
	for _, f := range strings.Fields(args) {
		if strings.HasPrefix(f, "#") {
			break
		}
		p, err := r.expand(setting{key: "Include", val: f, file: file, line: line}, r.host, r.host, "", 22, true)
		if err != nil {
			return err
		}
		if !filepath.IsAbs(p) {
			home, err := r.homeFor(setting{key: "Include", val: f, file: file, line: line})
			if err != nil {
				return err
			}
			p = filepath.Join(home, ".ssh", p)
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return &ConfigError{file, line, "Include " + f, err.Error()}
		}
		for _, m := range matches {
			m = filepath.Clean(m) // one spelling per file, on Windows too
			if r.seen[m] {
				return &ConfigError{file, line, "Include " + f, m + " includes itself"}
			}
			cfg, match, err := parseSSHConfig(m)
			if err != nil {
				var ce *ConfigError
				if errors.As(err, &ce) {
					return err
				}
				return &ConfigError{file, line, "Include " + f, err.Error()}
			}
			r.seen[m] = true
			err = r.walk(m, cfg, match, depth+1)
			delete(r.seen, m)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// splitQuoted splits a list of paths as OpenSSH does (argv_split):
// separated by blanks, double or single quotes keep a blank in one.
func splitQuoted(s setting) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote byte
	in := false
	for i := 0; i < len(s.val); i++ {
		c := s.val[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q: unterminated quote", s.val)}
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// homeFor is the home folder a value of s refers to (~, %d, an Include
// relative to ~/.ssh); with no home folder known it refuses rather than
// read a path relative to the root or the working folder.
func (r *resolver) homeFor(s setting) (string, error) {
	if r.home == "" {
		return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q refers to the home folder, which is not known (set HOME, or USERPROFILE on Windows)", s.val)}
	}
	return r.home, nil
}

// expand does what OpenSSH does to a path-like value: a leading ~ is the
// home folder, ${VAR} an environment variable, and the tokens %% %d %h %n
// %p %r %u; any other token is refused rather than guessed. HostName
// (path false) takes only %% and %h, as in OpenSSH.
func (r *resolver) expand(s setting, alias, hostName, remoteUser string, port int, path bool) (string, error) {
	v := s.val
	if !path {
		for i := 0; i+1 < len(v); i++ {
			if v[i] == '%' {
				if v[i+1] != '%' && v[i+1] != 'h' {
					return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q: only %%h and %%%% are expanded here, as in OpenSSH", s.val)}
				}
				i++
			}
		}
	}
	if path && (v == "~" || strings.HasPrefix(v, "~/") || strings.HasPrefix(v, `~\`)) {
		home, err := r.homeFor(s)
		if err != nil {
			return "", err
		}
		v = home + v[1:]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '$' && i+1 < len(v) && v[i+1] == '{' {
			end := strings.IndexByte(v[i:], '}')
			if end < 0 {
				return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q: unterminated ${", s.val)}
			}
			name := v[i+2 : i+end]
			val, ok := os.LookupEnv(name)
			if !ok {
				return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q: environment variable %s is not set", s.val, name)}
			}
			b.WriteString(val)
			i += end
			continue
		}
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(v) {
			return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q ends in a lone %%", s.val)}
		}
		i++
		switch v[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			home, err := r.homeFor(s)
			if err != nil {
				return "", err
			}
			b.WriteString(home)
		case 'h':
			b.WriteString(hostName)
		case 'n':
			b.WriteString(alias)
		case 'p':
			b.WriteString(strconv.Itoa(port))
		case 'r':
			if remoteUser == "" {
				return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q: %%r but no user is known for the host", s.val)}
			}
			b.WriteString(remoteUser)
		case 'u':
			u, err := localUser()
			if err != nil {
				return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q: %%u: %v", s.val, err)}
			}
			b.WriteString(u)
		default:
			return "", &ConfigError{s.file, s.line, s.key, fmt.Sprintf("%q: Tapline does not expand %%%c (it expands %%%%, %%d, %%h, %%n, %%p, %%r and %%u): write the path out", s.val, v[i])}
		}
	}
	return b.String(), nil
}

// localUser is the local user's name as OpenSSH's %u gives it (on Windows
// without the domain).
func localUser() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	name := u.Username
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	return name, nil
}
