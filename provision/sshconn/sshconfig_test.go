package sshconn

import (
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// writeConfigs writes the files of a configuration set under dir and
// returns the main file's path. "{dir}" in the text is replaced by dir.
func writeConfigs(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "{dir}", dir)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "config")
}

// sshG is what OpenSSH's ssh -G resolves for host: keyword to values.
func sshG(t *testing.T, ssh, config, host string) map[string][]string {
	t.Helper()
	out, err := exec.Command(ssh, "-G", "-F", config, host).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -G %s: %v: %s", host, err, out)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(l, " ")
		if ok {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// TestSSHConfigAgreesWithOpenSSH writes configurations with wildcards,
// negated patterns, repeated settings (the first wins), Include (globs,
// inside a Host block and at the top level), Match host and tokens, and
// compares what Resolve takes for each host with what ssh -G resolves.
func TestSSHConfigAgreesWithOpenSSH(t *testing.T) {
	ssh := needs.Tool(t, "ssh", "openssh-client")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// OpenSSH's ~ is the account's home folder; make $HOME say the same.
	t.Setenv("HOME", u.HomeDir)
	sets := []struct {
		name  string
		files map[string]string
		hosts []string
	}{
		{"wildcards and negation", map[string]string{"config": `
Host bad.plant
  Port 2299
Host *.plant !bad.plant
  User plantuser
  Port 2222
  IdentityFile ~/.ssh/plant_%h
Host sensor-?? 
  HostName 192.0.2.%h
  user qmark
Host *
  User fallback
  IdentityFile %d/.ssh/all_%u
`}, []string{"a.plant", "bad.plant", "x.a.plant", "sensor-12", "sensor-1", "sensor-123", "other"}},
		{"first match wins", map[string]string{"config": `
Host s1
  HostName 192.0.2.10
  USER first
  port=2201
  IdentitiesOnly yes
  UserKnownHostsFile ~/kh/%h_%p "%d/kh two" /tmp/kh_%u_%n_%r_%%
Host s1 s2
  HostName 192.0.2.99
  User second
  Port 2202
  IdentitiesOnly no
  IdentityFile ~/.ssh/s12
  UserKnownHostsFile /never
Host *
  IdentityFile ~/.ssh/last
`}, []string{"s1", "s2", "s3"}},
		{"include", map[string]string{"config": `
Host lab-*
  Include {dir}/conf.d/*.conf
Host *
  Include {dir}/tail
  Port 2000
`, "conf.d/10-a.conf": `
Host lab-a
  User from-a
Host *
  Port 2010
`, "conf.d/20-b.conf": `
Host lab-*
  User from-b
  IdentityFile ~/.ssh/lab
`, "tail": `
Host lab-a other
  HostName 192.0.2.50
  Port 2050
`}, []string{"lab-a", "lab-b", "other", "none"}},
		{"match host", map[string]string{"config": `
Host gw
  HostName 192.0.2.7
Match host 192.0.2.*,!192.0.2.8
  User matched
  Port 2007
Match all
  User everyone
`}, []string{"gw", "192.0.2.8", "192.0.2.9", "elsewhere"}},
		// Match criteria beyond host, and blocks Tapline cannot decide
		// (exec, canonical) that set nothing it reads: skipped, as their
		// outcome changes nothing Tapline takes.
		{"match criteria", map[string]string{"config": `
Match exec "exit 0"
  ForwardAgent no
Host a
  User alice
Match user alice
  Port 2201
Match originalhost b host 192.0.2.5
  User bob
Host b c
  HostName 192.0.2.5
Match host 192.0.2.5 !originalhost b
  User carol
Match !host 192.0.2.* localuser {localuser} user fallback,alice
  IdentitiesOnly yes
Match host d localuser nobody-here
  Port 2204
Match user {localuser} originalhost d,e
  Port 2205
Match canonical
  Compression yes
Match exec "exit 1" host e
  Compression no
Host *
  User fallback
`}, []string{"a", "b", "c", "d", "e"}},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			for name, text := range set.files {
				set.files[name] = strings.ReplaceAll(text, "{localuser}", u.Username)
			}
			path := writeConfigs(t, t.TempDir(), set.files)
			c, err := ReadSSHConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, host := range set.hosts {
				want := sshG(t, ssh, path, host)
				got, err := c.Resolve(host, HostSettings{})
				if err != nil {
					t.Fatalf("%s: %v", host, err)
				}
				check := func(field, got, def string) {
					t.Helper()
					if got == "" {
						got = def
					}
					if w := strings.Join(want[field], "|"); got != w {
						t.Errorf("%s: %s: Tapline %q, ssh -G %q", host, field, got, w)
					}
				}
				check("hostname", got.HostName, host)
				check("user", got.User, u.Username)
				port := strconv.Itoa(got.Port)
				if got.Port == 0 {
					port = "22"
				}
				check("port", port, "")
				check("identitiesonly", map[bool]string{true: "yes", false: "no"}[got.IdentitiesOnly], "")
				check("userknownhostsfile", strings.Join(got.KnownHostsFiles, " "),
					u.HomeDir+"/.ssh/known_hosts "+u.HomeDir+"/.ssh/known_hosts2")
				// ssh -G prints IdentityFile as written (unexpanded) and
				// its own default list when none is set.
				raw := rawIdentities(t, c, host)
				if len(raw) == 0 {
					if len(got.IdentityFiles) != 0 || !strings.HasPrefix(want["identityfile"][0], "~/.ssh/id_") {
						t.Errorf("%s: identityfile: Tapline %q, ssh -G %q", host, got.IdentityFiles, want["identityfile"])
					}
				} else {
					check("identityfile", strings.Join(raw, "|"), "")
				}
			}
		})
	}
}

// rawIdentities are the IdentityFile values for host as written.
func rawIdentities(t *testing.T, c *SSHConfig, host string) []string {
	t.Helper()
	r := resolver{host: strings.ToLower(host), home: c.home, seen: map[string]bool{}}
	if err := r.walk(c.Path, c.cfg, c.match, 0); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range r.identity {
		out = append(out, s.val)
	}
	return out
}

func TestSSHConfigExpandsTokens(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("TAPLINE_TEST_KEYS", "/keys")
	lu, err := localUser()
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfigs(t, t.TempDir(), map[string]string{"config": `
Host plant-*
  HostName 192.0.2.%h
  IdentityFile ~/.ssh/id_%h_%u
  IdentityFile %d/k_%r@%n:%p
  IdentityFile ${TAPLINE_TEST_KEYS}/100%%
  IdentityFile none
  UserKnownHostsFile ~/kh
`})
	c, err := ReadSSHConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Resolve("plant-4", HostSettings{User: "admin", Port: 2222})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{home + "/.ssh/id_192.0.2.plant-4_" + lu, home + "/k_admin@plant-4:2222", "/keys/100%"}
	if strings.Join(got.IdentityFiles, "\n") != strings.Join(want, "\n") {
		t.Errorf("IdentityFiles %q, want %q", got.IdentityFiles, want)
	}
	if got.HostName != "192.0.2.plant-4" || got.User != "admin" || got.Port != 2222 {
		t.Errorf("given settings must win: %+v", got)
	}
	if len(got.KnownHostsFiles) != 1 || got.KnownHostsFiles[0] != home+"/kh" {
		t.Errorf("KnownHostsFiles %q", got.KnownHostsFiles)
	}
}

// TestSSHConfigRefuses: a directive Tapline would not carry out fails
// with the file, the line and the directive, rather than connecting
// otherwise than asked.
func TestSSHConfigRefuses(t *testing.T) {
	cases := []struct {
		name, text string
		given      HostSettings
		line       int
		directive  string
	}{
		{"proxyjump", "Host s\n  User a\n  ProxyJump gw.example\n", HostSettings{}, 3, "ProxyJump"},
		{"proxycommand", "Host *\n  ProxyCommand nc %h %p\n", HostSettings{}, 2, "ProxyCommand"},
		{"no host key checking", "Host s\n\n  StrictHostKeyChecking no\n", HostSettings{}, 3, "StrictHostKeyChecking no"},
		{"host key checking off", "StrictHostKeyChecking=off\n", HostSettings{}, 1, "StrictHostKeyChecking off"},
		{"known_hosts that keeps nothing", "Host s\n  UserKnownHostsFile ~/.ssh/known_hosts /dev/null\n", HostSettings{}, 2, "UserKnownHostsFile /dev/null"},
		{"unexpanded token", "Host s\n  IdentityFile ~/.ssh/%C\n", HostSettings{}, 2, "IdentityFile"},
		{"unset variable", "Host s\n  IdentityFile ${TAPLINE_NOT_SET_ANYWHERE}/k\n", HostSettings{}, 2, "IdentityFile"},
		{"certificate", "Host s\n  CertificateFile ~/.ssh/id-cert.pub\n", HostSettings{}, 2, "CertificateFile"},
		{"host key alias", "Host s\n  HostKeyAlias other\n", HostSettings{}, 2, "HostKeyAlias"},
		{"bad port", "Host s\n  Port 70000\n", HostSettings{}, 2, "Port"},
		{"token OpenSSH refuses in HostName", "Host s\n  HostName %n.plant\n", HostSettings{}, 2, "HostName"},
		// A Match block Tapline cannot decide that sets what it reads.
		{"match exec", "Host *\n  Compression yes\nMatch exec \"test -e /etc/plant\"\n  User x\n", HostSettings{}, 3, `Match exec "test -e /etc/plant"`},
		{"match exec after a criterion that holds", "Match host s exec true\n  IdentityFile ~/.ssh/k\n", HostSettings{}, 1, "Match host s exec true"},
		{"match final", "match final\n  Port 2222\n", HostSettings{}, 1, "match final"},
		{"match canonical with an include", "Match canonical\n  Include other.conf\n", HostSettings{}, 1, "Match canonical"},
		{"match tagged", "Match tagged plant\n  UserKnownHostsFile ~/kh\n", HostSettings{}, 1, "Match tagged"},
		{"match exec with a refused directive", "Match exec true\n  ProxyJump gw\n", HostSettings{}, 1, "Match exec"},
		{"canonicalised host names", "Host *\n  CanonicalizeHostname yes\n  CanonicalDomains plant.example\n", HostSettings{}, 2, "CanonicalizeHostname yes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfigs(t, t.TempDir(), map[string]string{"config": tc.text})
			c, err := ReadSSHConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Resolve("s", tc.given)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("want a ConfigError, got %v", err)
			}
			if ce.File != path || ce.Line != tc.line || !strings.HasPrefix(ce.Directive, tc.directive) {
				t.Errorf("got %s:%d %q, want line %d %q", ce.File, ce.Line, ce.Directive, tc.line, tc.directive)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
				t.Errorf("not one line naming the file: %q", msg)
			}
		})
	}
	// Hosts the directive does not apply to, or a jump host the inventory
	// gives, are not refused.
	// Nor is a Match block Tapline cannot decide when a criterion it can
	// decide rules it out, or when it sets nothing Tapline reads.
	path := writeConfigs(t, t.TempDir(), map[string]string{"config": "CanonicalizeHostname no\nHost s\n  ProxyJump gw\nHost none\n  StrictHostKeyChecking no\n" +
		"Match host elsewhere exec true\n  User x\nMatch !originalhost other,s exec true\n  Port 2\nMatch exec true\n  ForwardAgent no\n  ServerAliveInterval 5\n"})
	c, err := ReadSSHConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve("other", HostSettings{}); err != nil {
		t.Errorf("other host: %v", err)
	}
	if _, err := c.Resolve("s", HostSettings{Jump: "admin@192.0.2.1"}); err != nil {
		t.Errorf("jump given: %v", err)
	}
}

func TestSSHConfigMissingAndBroken(t *testing.T) {
	dir := t.TempDir()
	c, err := ReadSSHConfig(filepath.Join(dir, "none"))
	if err != nil {
		t.Fatalf("a missing file is an empty configuration: %v", err)
	}
	if got, err := c.Resolve("s", HostSettings{User: "u"}); err != nil || got.User != "u" || got.Port != 0 {
		t.Errorf("%+v %v", got, err)
	}
	for name, text := range map[string]string{
		"match exec":              "Match exec true\n  User x\n",
		"self include":            "Include {dir}/config\n",
		"match without criteria":  "Host s\nMatch\n  User x\n",
		"match missing argument":  "Match host\n  User x\n",
		"match unknown criterion": "Match hostname s\n  User x\n",
		"match all and host":      "Match all host s\n  User x\n",
	} {
		path := writeConfigs(t, t.TempDir(), map[string]string{"config": text})
		c, err := ReadSSHConfig(path)
		if err == nil {
			_, err = c.Resolve("s", HostSettings{})
		}
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want a one-line error naming %s, got %v", name, path, err)
		}
	}
	// In an included file: that file and its line.
	dir = t.TempDir()
	path := writeConfigs(t, dir, map[string]string{"config": "Host s\n  Include {dir}/inc\n", "inc": "\nMatch user\n"})
	c, err = ReadSSHConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve("s", HostSettings{})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.File != filepath.Join(dir, "inc") || ce.Line != 2 {
		t.Errorf("a bad Match line in an included file: %v", err)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"*.plant", "a.plant", true}, {"*.plant", "plant", false}, {"a*b*c", "aXbYbc", true},
		{"sensor-??", "sensor-1", false}, {"sensor-??", "sensor-12", true}, {"192.0.2.*", "192.0.2.8", true},
	} {
		if got := globMatch(tc.pat, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pat, tc.s, got)
		}
	}
}

// TestSSHConfigRefusesUnknownHome: with no home folder known, a value that
// refers to it (~, %d, a relative Include) is refused with its line, never
// read relative to the root or the working folder.
func TestSSHConfigRefusesUnknownHome(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("USERPROFILE", "")
	t.Setenv("home", "")
	for _, line := range []string{"IdentityFile ~/.ssh/id_plant", "IdentityFile %d/id_plant", "Include plant.conf"} {
		path := writeConfigs(t, t.TempDir(), map[string]string{"config": "Host plant-*\n  " + line + "\n"})
		c, err := ReadSSHConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Resolve("plant-1", HostSettings{User: "admin", Port: 22})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Line != 2 || !strings.Contains(err.Error(), "home folder") {
			t.Errorf("%s: got %v, want a refusal of line 2 naming the home folder", line, err)
		}
	}
}
