package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Command is one tapline command: a group of subcommands (Subs) or a leaf
// that runs (Run). Its help is written from these fields in one style for
// every command: usage, description, flags by group, examples, exit codes.
type Command struct {
	Name    string
	Summary string // one line, lower case, in the parent's list
	// Usage follows the command's path in the synopsis, e.g. "FILE --sensor NAME [flags]".
	Usage       string
	Description string
	// Groups list the flags by theme, in the order the help shows them;
	// an entry is "name" or "name METAVAR" (the value's placeholder).
	Groups []FlagGroup
	// Required flags: missing ones are named all at once before Run's
	// own checks.
	Required []string
	Examples []Example
	// Exit lists the exit codes; nil means the standard three.
	Exit []ExitCode
	Run  func(env *Env, args []string) int
	Subs []*Command

	parent *Command
}

// FlagGroup is one titled group of a command's flags.
type FlagGroup struct {
	Title string
	Flags []string
}

// Example is one example in a command's help.
type Example struct {
	What string // a sentence, shown as a comment above the command
	Cmd  string // the command line, starting with "tapline"
}

// ExitCode is one exit code and what it means for the command.
type ExitCode struct {
	Code    int
	Meaning string
}

var standardExit = []ExitCode{
	{ExitOK, "success"},
	{ExitVerdict, "the command ran and the answer is negative"},
	{ExitUsage, "usage error, or input that cannot be read"},
}

// Path is the command line up to this command: "tapline certs check".
func (c *Command) Path() string {
	if c.parent == nil {
		return c.Name
	}
	return c.parent.Path() + " " + c.Name
}

// short is Path without "tapline ", the prefix of the command's error
// lines (Errorf adds "tapline: "); "" for tapline itself.
func (c *Command) short() string {
	return strings.TrimPrefix(strings.TrimPrefix(c.Path(), "tapline"), " ")
}

// prefix is short() and ": ", or "" for tapline itself.
func (c *Command) prefix() string {
	if s := c.short(); s != "" {
		return s + ": "
	}
	return ""
}

// sub returns the subcommand called name.
func (c *Command) sub(name string) *Command {
	for _, s := range c.Subs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (c *Command) link() *Command {
	for _, s := range c.Subs {
		s.parent = c
		s.link()
	}
	return c
}

// dispatch runs args against c: a group picks its subcommand, a leaf runs.
func (c *Command) dispatch(env *Env, args []string) int {
	if c.Run != nil && len(c.Subs) == 0 {
		env.cmd = c
		return c.Run(env, args)
	}
	if len(args) == 0 {
		env.cmd = c
		env.Errorf("%sgive a command: %s; run '%s --help'", c.prefix(), strings.Join(c.subNames(), ", "), c.Path())
		return ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		if args[0] == "help" && len(args) > 1 {
			return c.help(env, args[1:])
		}
		c.writeHelp(env.Stdout, nil)
		return ExitOK
	}
	s := c.sub(args[0])
	if s == nil {
		env.cmd = c
		msg := fmt.Sprintf("%sunknown command %q", c.prefix(), args[0])
		if strings.HasPrefix(args[0], "-") {
			msg = fmt.Sprintf("%sunknown flag %s", c.prefix(), args[0])
		}
		if d := didYouMean(args[0], c.subNames()); d != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", d)
		}
		env.Errorf("%s; run '%s --help' for the commands", msg, c.Path())
		return ExitUsage
	}
	return s.dispatch(env, args[1:])
}

// help is "tapline help [COMMAND...]": the help of the command named.
func (c *Command) help(env *Env, path []string) int {
	at := c
	for _, name := range path {
		s := at.sub(name)
		if s == nil {
			env.cmd = at
			msg := fmt.Sprintf("help: no command %q in %s", name, at.Path())
			if d := didYouMean(name, at.subNames()); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			}
			env.Errorf("%s; run '%s --help'", msg, at.Path())
			return ExitUsage
		}
		at = s
	}
	if len(at.Subs) > 0 || at.Run == nil {
		at.writeHelp(env.Stdout, nil)
		return ExitOK
	}
	// A leaf's flags are defined as it runs: run it for its help.
	env.cmd = at
	return at.Run(env, []string{"--help"})
}

func (c *Command) subNames() []string {
	out := make([]string, 0, len(c.Subs))
	for _, s := range c.Subs {
		out = append(out, s.Name)
	}
	return out
}

// writeHelp writes the command's help; fs holds a leaf's flags.
func (c *Command) writeHelp(w io.Writer, fs *FlagSet) {
	usage := c.Usage
	if usage == "" {
		if len(c.Subs) > 0 {
			usage = "COMMAND [flags]"
		} else {
			usage = "[flags]"
		}
	}
	fmt.Fprintf(w, "Usage:\n  %s %s\n\n", c.Path(), usage)
	if c.Description != "" {
		fmt.Fprintf(w, "%s\n\n", wrapText(c.Description, 78))
	} else if c.Summary != "" {
		fmt.Fprintf(w, "%s.\n\n", upperFirst(c.Summary))
	}
	if len(c.Subs) > 0 {
		fmt.Fprintln(w, "Commands:")
		width := 0
		for _, s := range c.Subs {
			width = max(width, len(s.Name))
		}
		for _, s := range c.Subs {
			fmt.Fprintf(w, "  %-*s  %s\n", width, s.Name, s.Summary)
		}
		fmt.Fprintln(w)
	}
	if fs != nil {
		fs.writeFlags(w)
	}
	if c.parent == nil {
		fmt.Fprintln(w, "Flags:")
		fmt.Fprintln(w, "  --version   print the version (the same as 'tapline version')")
		fmt.Fprintln(w, "  -h, --help  show this help ('tapline help COMMAND' for a command's)")
		if buildKind == "desktop" {
			fmt.Fprintln(w, "  --help-app  the desktop app's start-up flags (--demo, --files, --inventory, --first-frame)")
		}
		fmt.Fprintln(w)
	}
	if len(c.Examples) > 0 {
		fmt.Fprintln(w, "Examples:")
		for i, e := range c.Examples {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if e.What != "" {
				fmt.Fprintf(w, "  # %s\n", e.What)
			}
			for _, l := range strings.Split(e.Cmd, "\n") {
				fmt.Fprintf(w, "  %s\n", l)
			}
		}
		fmt.Fprintln(w)
	}
	if len(c.Subs) == 0 {
		exit := c.Exit
		if exit == nil {
			exit = standardExit
		}
		fmt.Fprintln(w, "Exit codes:")
		for _, e := range exit {
			fmt.Fprintf(w, "  %d  %s\n", e.Code, e.Meaning)
		}
		fmt.Fprintln(w)
	}
	if len(c.Subs) > 0 {
		fmt.Fprintf(w, "Run '%s COMMAND --help' for a command's flags and examples.\n", c.Path())
	} else {
		fmt.Fprintf(w, "Run 'tapline help' for every command, 'tapline --version' for the version.\n")
	}
}

// FlagSet is a command's flags: Go's flag.FlagSet plus what the one help
// style and the parsing rules need (definition order, groups, required
// flags, positional arguments between flags).
type FlagSet struct {
	*flag.FlagSet
	env    *Env
	cmd    *Command
	order  []string
	repeat map[string]bool
	pos    []string
}

// newFlags returns the flags of the running command (env's), or of a
// command made up from name when none is running (a direct call).
func newFlags(env *Env, name string) *FlagSet {
	cmd := env.cmd
	if cmd == nil || !strings.HasSuffix(cmd.Path(), name) {
		cmd = &Command{Name: "tapline " + name}
	}
	fs := &FlagSet{FlagSet: flag.NewFlagSet(cmd.Path(), flag.ContinueOnError), env: env, cmd: cmd, repeat: map[string]bool{}}
	fs.FlagSet.SetOutput(io.Discard) // errors and help are ours, one line or the whole help
	fs.FlagSet.Usage = func() {}
	return fs
}

func (f *FlagSet) defined(name string) { f.order = append(f.order, name) }

// String defines a string flag (flag.FlagSet.String).
func (f *FlagSet) String(name, value, usage string) *string {
	f.defined(name)
	return f.FlagSet.String(name, value, usage)
}

// StringVar defines a string flag stored in p.
func (f *FlagSet) StringVar(p *string, name, value, usage string) {
	f.defined(name)
	f.FlagSet.StringVar(p, name, value, usage)
}

// Bool defines a boolean flag.
func (f *FlagSet) Bool(name string, value bool, usage string) *bool {
	f.defined(name)
	return f.FlagSet.Bool(name, value, usage)
}

// BoolVar defines a boolean flag stored in p.
func (f *FlagSet) BoolVar(p *bool, name string, value bool, usage string) {
	f.defined(name)
	f.FlagSet.BoolVar(p, name, value, usage)
}

// Int defines a whole-number flag.
func (f *FlagSet) Int(name string, value int, usage string) *int {
	f.defined(name)
	return f.FlagSet.Int(name, value, usage)
}

// IntVar defines a whole-number flag stored in p.
func (f *FlagSet) IntVar(p *int, name string, value int, usage string) {
	f.defined(name)
	f.FlagSet.IntVar(p, name, value, usage)
}

// Duration defines a duration flag (90s, 2m).
func (f *FlagSet) Duration(name string, value time.Duration, usage string) *time.Duration {
	f.defined(name)
	return f.FlagSet.Duration(name, value, usage)
}

// Var defines a flag of any flag.Value; a repeatable one (a list) says so
// in the help.
func (f *FlagSet) Var(v flag.Value, name, usage string) {
	f.defined(name)
	switch v.(type) {
	case *multiFlag, *certsMultiFlag:
		f.repeat[name] = true
	}
	f.FlagSet.Var(v, name, usage)
}

// Args are the positional arguments, wherever they stood among the flags.
func (f *FlagSet) Args() []string { return f.pos }

// NArg is len(Args()).
func (f *FlagSet) NArg() int { return len(f.pos) }

// Arg is Args()[i], "" when there is none.
func (f *FlagSet) Arg(i int) string {
	if i < 0 || i >= len(f.pos) {
		return ""
	}
	return f.pos[i]
}

// parse reads args: flags before, between and after positional arguments
// ("--" ends the flags). It returns false and the exit code when the
// command must stop: help asked (the help on stdout, 0), a bad or unknown
// flag, or required flags missing (one line on stderr naming them all and
// pointing to --help, 2).
func (f *FlagSet) parse(args []string) (int, bool) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.cmd.writeHelp(f.env.Stdout, f)
				return ExitOK, false
			}
			f.env.Errorf("%s%s; run '%s --help' for the flags", f.cmd.prefix(), f.flagError(err), f.cmd.Path())
			return ExitUsage, false
		}
		args = f.FlagSet.Args()
		if len(args) == 0 {
			break
		}
		f.pos = append(f.pos, args[0])
		args = args[1:]
	}
	f.pos = append(f.pos, rest...)
	set := map[string]bool{}
	f.FlagSet.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var missing []string
	for _, r := range f.cmd.Required {
		if !set[r] {
			missing = append(missing, "--"+r)
		}
	}
	if len(missing) > 0 {
		what := "flag"
		if len(missing) > 1 {
			what = "flags"
		}
		f.env.Errorf("%smissing required %s %s; run '%s --help' for the flags", f.cmd.prefix(), what, joinAnd(missing), f.cmd.Path())
		return ExitUsage, false
	}
	return 0, true
}

// flagError rewrites the flag package's error in the help's terms
// (--name, not -name) with a suggestion for a mistyped flag.
func (f *FlagSet) flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		out := "unknown flag --" + name
		var names []string
		f.FlagSet.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
		if d := didYouMean(name, names); d != "" {
			out += " (did you mean --" + d + "?)"
		}
		return out
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "--" + strings.TrimLeft(name, "-") + " needs a value"
	}
	// invalid value "x" for flag -days: parse error
	if i := strings.Index(msg, " for flag -"); i >= 0 && strings.HasPrefix(msg, "invalid ") {
		val := strings.TrimPrefix(msg[:i], "invalid value ")
		val = strings.TrimPrefix(val, "invalid boolean value ")
		name, why, _ := strings.Cut(msg[i+len(" for flag -"):], ": ")
		kind := "a value of the right kind"
		if fl := f.FlagSet.Lookup(name); fl != nil {
			switch strings.TrimSuffix(fmt.Sprintf("%T", fl.Value), "Value") {
			case "*flag.int", "*flag.uint", "*flag.int64":
				kind = "a whole number"
			case "*flag.duration":
				kind = "a duration such as 90s or 2m"
			case "*flag.bool":
				kind = "true or false"
			default:
				kind = why
			}
		}
		return fmt.Sprintf("--%s %s: want %s", name, val, kind)
	}
	return msg
}

// writeFlags lists the flags by the command's groups, then any not in a
// group under "Flags".
func (f *FlagSet) writeFlags(w io.Writer) {
	type line struct{ left, right string }
	placed := map[string]bool{}
	var groups []struct {
		title string
		lines []line
	}
	describe := func(name, metavar string) (line, bool) {
		fl := f.FlagSet.Lookup(name)
		if fl == nil {
			return line{}, false
		}
		mv, usage := flag.UnquoteUsage(fl)
		if metavar != "" {
			mv = metavar
		} else {
			mv = map[string]string{"string": "VALUE", "int": "N", "duration": "DURATION", "value": "VALUE", "uint": "N", "float": "NUMBER"}[mv]
		}
		left := "--" + name
		if len(name) == 1 {
			left = "-" + name
		}
		if mv != "" {
			left += " " + mv
		}
		if f.repeat[name] {
			usage += " (repeatable)"
		}
		switch {
		case fl.DefValue == "", fl.DefValue == "0", fl.DefValue == "false", fl.DefValue == "0s", fl.DefValue == "[]":
		case strings.Contains(usage, "(default"):
		default:
			usage += fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		for _, r := range f.cmd.Required {
			if r == name {
				usage += " (required)"
			}
		}
		return line{left, usage}, true
	}
	for _, g := range f.cmd.Groups {
		var ls []line
		for _, e := range g.Flags {
			name, mv, _ := strings.Cut(e, " ")
			if l, ok := describe(name, mv); ok && !placed[name] {
				placed[name] = true
				ls = append(ls, l)
			}
		}
		if len(ls) > 0 {
			groups = append(groups, struct {
				title string
				lines []line
			}{g.Title, ls})
		}
	}
	var other []line
	for _, name := range f.order {
		if !placed[name] {
			placed[name] = true
			if l, ok := describe(name, ""); ok {
				other = append(other, l)
			}
		}
	}
	other = append(other, line{"-h, --help", "show this help"})
	groups = append(groups, struct {
		title string
		lines []line
	}{"Flags", other})
	width := 0
	for _, g := range groups {
		for _, l := range g.lines {
			width = max(width, len(l.left))
		}
	}
	width = min(width, 30)
	for _, g := range groups {
		fmt.Fprintf(w, "%s:\n", g.title)
		for _, l := range g.lines {
			pad := width - len(l.left)
			if pad < 0 {
				fmt.Fprintf(w, "  %s\n  %s  %s\n", l.left, strings.Repeat(" ", width), indentWrap(l.right, width+4, 78))
				continue
			}
			fmt.Fprintf(w, "  %s%s  %s\n", l.left, strings.Repeat(" ", pad), indentWrap(l.right, width+4, 78))
		}
		fmt.Fprintln(w)
	}
}

// ungrouped names the flags no group of the command lists (the help shows
// them under "Flags"); a test keeps every command's list empty.
func (f *FlagSet) ungrouped() []string {
	in := map[string]bool{}
	for _, g := range f.cmd.Groups {
		for _, e := range g.Flags {
			name, _, _ := strings.Cut(e, " ")
			in[name] = true
		}
	}
	var out []string
	for _, n := range f.order {
		if !in[n] {
			out = append(out, n)
		}
	}
	return out
}

// didYouMean returns the candidate s is most likely a typo of: the
// closest within 2 edits (a swap counts one), else the only one s begins.
// "" when none is close.
func didYouMean(s string, candidates []string) string {
	s = strings.ToLower(s)
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && d < len(s) {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if len(s) >= 2 && strings.HasPrefix(c, s) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment): a swap of two letters counts one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wrapText wraps each paragraph of s at width columns.
func wrapText(s string, width int) string {
	var out []string
	for _, para := range strings.Split(s, "\n\n") {
		out = append(out, indentWrap(strings.Join(strings.Fields(para), " "), 0, width))
	}
	return strings.Join(out, "\n\n")
}

// indentWrap wraps s at width columns; continuation lines are indented by
// indent spaces (the first line is already there).
func indentWrap(s string, indent, width int) string {
	words := strings.Fields(s)
	var b strings.Builder
	col := indent
	for i, w := range words {
		if i > 0 {
			if col+1+len(w) > width {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
