package sshconn

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// Match and Include lines are read by Tapline, not by the syntax library
// (which knows only "Match host" and "Match all" and refuses the whole
// file at any other criterion, and reads included files at once, under its
// own idea of the home folder). Before a file is parsed, each Match line
// is replaced by "Match host" and a placeholder naming its line, its
// criteria kept here and decided when a host is resolved, as
// ssh_config(5) says; each Include becomes a plain keyword (includeKeyword)
// that the resolver follows where it stands, when its block applies.
//
// What Tapline can decide as OpenSSH would, it does: all, host (the
// HostName found so far), originalhost, user (the remote user given or
// found so far, else the local user, as ssh) and localuser, each negatable with "!". What it cannot -
// exec (Tapline runs no commands), canonical and final (it does not
// canonicalise), localnetwork, tagged, command, version, sessiontype - makes
// the block undecided. An undecided block that sets nothing Tapline reads
// (ForwardAgent, Compression...) is skipped, since its outcome changes
// nothing Tapline does; one that sets something Tapline reads, or holds an
// Include, is refused with its file and line rather than guessed.

// matchPlaceholder prefixes the pattern a Match line is replaced with.
const matchPlaceholder = "tapline-match-line-"

// includeKeyword is what an Include line's keyword is replaced with.
const includeKeyword = "TaplineInclude"

// matchCriterion is one criterion of a Match line.
type matchCriterion struct {
	negate bool
	attr   string // lower case
	arg    string // "" for all, canonical and final
}

// matchLine is a Match line as written and its criteria.
type matchLine struct {
	text     string
	criteria []matchCriterion
}

// noArgCriteria are the Match criteria that take no argument.
var noArgCriteria = map[string]bool{"all": true, "canonical": true, "final": true}

// knownCriteria are the Match criteria of OpenSSH 9.
var knownCriteria = map[string]bool{"all": true, "canonical": true, "final": true, "exec": true, "localnetwork": true,
	"host": true, "originalhost": true, "tagged": true, "command": true, "user": true, "localuser": true,
	"version": true, "sessiontype": true}

// rewriteConfig replaces every Match line of raw by a placeholder block
// the library parses and every Include keyword by includeKeyword, keeping
// the line count, and returns the Match lines' criteria by line number. A
// Match line OpenSSH would refuse is a *ConfigError.
func rewriteConfig(path string, raw []byte) ([]byte, map[int]*matchLine, error) {
	var out bytes.Buffer
	var lines map[int]*matchLine
	for n, l := range bytes.SplitAfter(raw, []byte("\n")) {
		line := n + 1
		body := bytes.TrimRight(l, "\r\n")
		kw, rest := configKeyword(string(body))
		if strings.EqualFold(kw, "include") {
			out.WriteString(includeKeyword + " " + rest + string(l[len(body):]))
			continue
		}
		if !strings.EqualFold(kw, "match") {
			out.Write(l)
			continue
		}
		m, err := parseMatchLine(rest)
		if err != nil {
			return nil, nil, &ConfigError{path, line, "Match", err.Error() + ": fix the line as ssh_config(5) says"}
		}
		m.text = strings.TrimSpace(string(body))
		if lines == nil {
			lines = map[int]*matchLine{}
		}
		lines[line] = m
		out.WriteString("Match host " + matchPlaceholder + strconv.Itoa(line) + string(l[len(body):]))
	}
	return out.Bytes(), lines, nil
}

// configKeyword splits a configuration line into its keyword and the rest
// ("Keyword value", "Keyword=value" or "Keyword = value").
func configKeyword(s string) (string, string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t=")
	if i < 0 {
		return s, ""
	}
	kw, rest := s[:i], strings.TrimLeft(s[i:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	return kw, rest
}

// parseMatchLine reads a Match line's criteria as OpenSSH's
// match_cfg_line does: "all" alone (or with canonical/final), every other
// criterion with one argument (quoted when it holds blanks).
func parseMatchLine(s string) (*matchLine, error) {
	args, err := splitQuoted(setting{key: "Match", val: s})
	if err != nil {
		return nil, err
	}
	m := &matchLine{}
	all := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "#") {
			break
		}
		c := matchCriterion{attr: strings.ToLower(a)}
		if strings.HasPrefix(c.attr, "!") {
			c.negate, c.attr = true, c.attr[1:]
		}
		if !knownCriteria[c.attr] {
			return nil, fmt.Errorf("unknown criterion %q", a)
		}
		if !noArgCriteria[c.attr] {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "#") {
				return nil, fmt.Errorf("%s needs an argument", a)
			}
			i++
			c.arg = args[i]
		}
		all = all || c.attr == "all"
		m.criteria = append(m.criteria, c)
	}
	if len(m.criteria) == 0 {
		return nil, fmt.Errorf("no criteria")
	}
	if all {
		for _, c := range m.criteria {
			if c.attr != "all" && c.attr != "canonical" && c.attr != "final" {
				return nil, fmt.Errorf("all cannot be combined with %s", c.attr)
			}
		}
	}
	return m, nil
}

// matchLineOf is the Match line a parsed block stands for, if it is one.
func matchLineOf(h *ssh_config.Host, lines map[int]*matchLine) (int, *matchLine) {
	if len(h.Patterns) != 1 || !strings.HasPrefix(strings.TrimSpace(h.String()), "Match host "+matchPlaceholder) {
		return 0, nil
	}
	p := h.Patterns[0].String()
	if !strings.HasPrefix(p, matchPlaceholder) {
		return 0, nil
	}
	n, err := strconv.Atoi(p[len(matchPlaceholder):])
	if err != nil {
		return 0, nil
	}
	return n, lines[n]
}

// matchOutcome is what a Match line decides for the host being resolved.
type matchOutcome int

const (
	matchNo matchOutcome = iota
	matchYes
	matchUndecided
)

// decide evaluates m's criteria for the host resolved so far; undecided
// says which criterion Tapline could not decide when none decided no.
func (r *resolver) decide(m *matchLine) (matchOutcome, string) {
	undecided := ""
	for _, c := range m.criteria {
		var ok, known bool
		switch c.attr {
		case "all":
			ok, known = true, true
		case "host":
			name := r.host
			if r.hostName.val != "" {
				name = strings.ToLower(strings.ReplaceAll(r.hostName.val, "%h", r.host))
			}
			ok, known = patternList(c.arg, name), true
		case "originalhost":
			ok, known = patternList(c.arg, r.host), true
		case "user":
			// As ssh: the user given (-l, the inventory's ssh_user), else
			// a User line before this one, else the local user.
			u := r.givenUser
			if u == "" {
				u = r.user.val
			}
			if u == "" {
				u, _ = localUser()
			}
			if u != "" {
				ok, known = patternList(c.arg, u), true
			}
		case "localuser":
			if lu, err := localUser(); err == nil {
				ok, known = patternList(c.arg, lu), true
			}
		}
		if !known {
			if undecided == "" {
				undecided = c.attr
			}
			continue
		}
		if ok == c.negate {
			return matchNo, ""
		}
	}
	if undecided != "" {
		return matchUndecided, undecided
	}
	return matchYes, ""
}

// patternList is OpenSSH's match_pattern_list: a comma-separated list of
// patterns, where a matching negated one ("!pat") decides no.
func patternList(list, s string) bool {
	found := false
	for _, pat := range strings.Split(strings.ToLower(list), ",") {
		neg := strings.HasPrefix(pat, "!")
		if neg {
			pat = pat[1:]
		}
		if globMatch(pat, strings.ToLower(s)) {
			if neg {
				return false
			}
			found = true
		}
	}
	return found
}

// readsAny says whether a block sets something Tapline reads or refuses,
// or includes files (which may): the line of the first such node.
func readsAny(h *ssh_config.Host) (int, string, bool) {
	for _, n := range h.Nodes {
		switch n := n.(type) {
		case *ssh_config.KV:
			k := strings.ToLower(n.Key)
			if _, ok := refused[k]; ok || readKeywords[k] {
				return n.Pos().Line, n.Key, true
			}
			if strings.EqualFold(n.Key, includeKeyword) {
				return n.Pos().Line, "Include", true
			}
		}
	}
	return 0, "", false
}

// readKeywords are the keywords Resolve takes.
var readKeywords = map[string]bool{"hostname": true, "user": true, "port": true, "identitiesonly": true,
	"stricthostkeychecking": true, "userknownhostsfile": true, "proxyjump": true, "proxycommand": true, "identityfile": true,
	"canonicalizehostname": true}

// undecidedWhy says why Tapline cannot decide a criterion.
func undecidedWhy(attr string) string {
	switch attr {
	case "exec":
		return "Tapline runs no commands from the SSH configuration"
	case "canonical", "final":
		return "Tapline does not canonicalise host names"
	case "user", "localuser":
		return "the local user name cannot be read"
	}
	return "Tapline does not evaluate " + attr
}
