package sshd

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Provisioning commands accepted over SSH (docs/appliance.md): the same list
// the OpenSSH ForceCommand wrapper ("sensorcore ssh-command") accepts.
var allowed = map[string]bool{"apply": true, "confirm": true, "rollback": true, "status": true, "sanity": true, "validate": true, "version": true,
	"install-core": true, "console": true, "plugin": true}

// allowedSub limits commands with subcommands to those a provisioning
// account may run: of the console's, only reset (recovering a privileged
// user's access); unlock stays at the appliance.
var allowedSub = map[string]map[string]bool{"console": {"reset": true}, "plugin": {"install": true, "remove": true}}

// AllowedCommand splits an SSH command line (simple shell quoting: '...',
// "...", backslash) and returns sensorcore's arguments without the program
// name, or an error naming what is refused.
func AllowedCommand(line string) ([]string, error) {
	words, err := splitWords(line)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("no command: this account runs only sensorcore apply, confirm, rollback, status, sanity, validate, version, install-core, console reset and plugin install|remove")
	}
	if words[0] == "sudo" && len(words) > 1 {
		words = words[1:]
	}
	if allowed[words[0]] {
		// "ssh sensor status": the account runs only sensorcore, so the
		// program name may be left out.
		words = append([]string{"sensorcore"}, words...)
	}
	if path.Base(words[0]) != "sensorcore" {
		return nil, fmt.Errorf("%q is not allowed: this account runs only sensorcore apply, confirm, rollback, status, sanity, validate, version, install-core, console reset and plugin install|remove", words[0])
	}
	if len(words) < 2 || !allowed[words[1]] {
		sub := ""
		if len(words) > 1 {
			sub = words[1]
		}
		return nil, fmt.Errorf("sensorcore %q is not allowed over SSH: use apply, confirm, rollback, status, sanity, validate, version, install-core, console reset or plugin install|remove", sub)
	}
	if subs, ok := allowedSub[words[1]]; ok && (len(words) < 3 || !subs[words[2]]) {
		sub := ""
		if len(words) > 2 {
			sub = words[2]
		}
		return nil, fmt.Errorf("sensorcore %s %q is not allowed over SSH: only %s", words[1], sub, subList(subs))
	}
	for _, w := range words[2:] {
		name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if strings.HasPrefix(w, "-") && refusedFlags[name] {
			return nil, fmt.Errorf("--%s is not allowed over SSH", name)
		}
	}
	return words[1:], nil
}

// refusedFlags are the flags a provisioning SSH session may not give: where
// the sensor's files are, what it trusts, how it changes the network, and
// install-core's first-install options. Go's flag package takes -name as
// well as --name, so both are refused.
var refusedFlags = map[string]bool{"root": true, "trust-root": true, "release-root": true, "network-backend": true, "target": true, "service": true}

func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case strings.IndexByte(";&|<>`$()*?{}[]~", c) >= 0:
			return nil, fmt.Errorf("shell character %q is not allowed in a provisioning command", c)
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in command")
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// subList names a command's subcommands allowed over SSH, sorted.
func subList(subs map[string]bool) string {
	var out []string
	for s := range subs {
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, " or ")
}
