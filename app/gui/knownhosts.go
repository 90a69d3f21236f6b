package gui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision/sshconn"
)

// knownHostsScreen lists the hosts pushes trust (the known_hosts file the
// app uses, sshconn.KnownHosts) with their key fingerprints, and removes
// the selected host's entries after a second, explicit press (the next
// connection then shows the fingerprint again for the engineer to confirm).
// Reading and removing are sshconn's (ListKnownHosts, RemoveKnownHost: the
// ssh-keygen -R rewrite with a .old backup). The ssh-keygen -R command doing
// the same is shown for the terminal.
type knownHostsScreen struct {
	env   Env
	tasks tasks

	entries  []sshconn.KnownHostEntry
	sel      int
	file     *widget.Label
	list     *widget.List
	detail   *widget.Label
	command  *widget.Label
	copyBtn  *widget.Button
	reload   *widget.Button
	remove   *widget.Button
	confirm  *widget.Button
	findings *findingsView
}

func newKnownHostsScreen(env Env) *knownHostsScreen {
	s := &knownHostsScreen{env: env, tasks: tasks{ui: env.ui}, sel: -1, file: widget.NewLabel(""), detail: widget.NewLabel(""),
		command: widget.NewLabel(""), findings: newFindingsView("")}
	s.command.TextStyle = fyne.TextStyle{Monospace: true}
	s.command.Selectable = true
	s.command.Wrapping = fyne.TextWrapBreak
	s.detail.Wrapping = fyne.TextWrapWord
	s.file.Wrapping = fyne.TextWrapWord
	s.list = widget.NewList(func() int { return len(s.entries) },
		func() fyne.CanvasObject {
			return widget.NewLabel("[192.0.2.10]:22  ssh-ed25519  SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(s.entries) {
				e := s.entries[id]
				o.(*widget.Label).SetText(strings.Join(e.Hosts, ",") + "   " + e.KeyType + "   " + e.Fingerprint)
			}
		})
	s.list.OnSelected = func(id widget.ListItemID) { s.sel = id; s.showSelected() }
	s.reload = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), s.load)
	s.copyBtn = widget.NewButtonWithIcon("Copy command", theme.ContentCopyIcon(), func() {
		if s.env.App != nil && s.command.Text != "" {
			s.env.App.Clipboard().SetContent(s.command.Text)
		}
	})
	s.remove = widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), s.onRemove)
	s.confirm = widget.NewButtonWithIcon("Yes, forget this host's keys", theme.DeleteIcon(), s.onConfirmRemove)
	s.confirm.Importance = widget.DangerImportance
	s.remove.Disable()
	s.confirm.Hide()
	s.load()
	return s
}

func (s *knownHostsScreen) build() fyne.CanvasObject {
	top := container.NewVBox(s.file, container.NewHBox(s.reload), s.findings.box)
	bottom := widget.NewCard("Selected host", "", container.NewVBox(s.detail,
		container.NewHBox(s.remove, s.confirm),
		widget.NewLabel("Or remove it from a terminal (for example after a sensor was reinstalled):"),
		newBorder(nil, nil, nil, s.copyBtn, s.command)))
	return newBorder(top, bottom, nil, nil, s.list)
}

// load reads the file off the UI goroutine.
func (s *knownHostsScreen) load() {
	path := s.env.KnownHosts
	type out struct {
		es      []sshconn.KnownHostEntry
		missing bool
		err     error
	}
	run(&s.tasks, func(context.Context) out {
		_, statErr := os.Stat(path)
		es, err := sshconn.ListKnownHosts(path)
		return out{es, errors.Is(statErr, os.ErrNotExist), err}
	}, func(o out) {
		s.entries, s.sel = o.es, -1
		s.list.UnselectAll()
		s.remove.Disable()
		s.confirm.Hide()
		s.list.Refresh()
		s.detail.SetText("Select a host.")
		s.command.SetText("")
		switch {
		case o.err != nil:
			s.file.SetText(path)
			s.findings.set([]certs.Finding{knownHostsProblem("Reading "+path, o.err)})
		case o.missing:
			s.file.SetText("No host trusted yet: " + path + " is created at the first confirmed connection.")
			s.findings.set(nil)
		default:
			s.file.SetText(fmt.Sprintf("%d hosts trusted in %s", len(o.es), path))
			s.findings.set(nil)
		}
	})
}

func (s *knownHostsScreen) showSelected() {
	if s.sel < 0 || s.sel >= len(s.entries) {
		return
	}
	e := s.entries[s.sel]
	s.confirm.Hide()
	detail := fmt.Sprintf("%s\n%s %s (line %d of the file)", strings.Join(e.Hosts, ","), e.KeyType, e.Fingerprint, e.Line)
	host, ok := removableHost(e)
	switch {
	case ok:
		s.remove.Enable()
		detail += "\nRemove forgets every key of " + host + " in the file (the previous file is kept as " + filepath.Base(s.env.KnownHosts) + ".old)."
	case e.Marker != "":
		s.remove.Disable()
		detail += "\nA " + e.Marker + " line: edit the file to change it."
	case e.Hashed:
		s.remove.Enable()
		detail += "\nThe host name of a hashed entry cannot be read from the file: Remove forgets this one line (key " + e.Fingerprint + "); the command below forgets every key of a host you name in place of HOST."
	default:
		s.remove.Disable()
		detail += "\nA wildcard pattern: edit the file to change it."
	}
	s.detail.SetText(detail)
	if !ok {
		host = "HOST"
	}
	s.command.SetText(fmt.Sprintf("ssh-keygen -R '%s' -f '%s'", host, s.env.KnownHosts))
}

// removableHost is the name RemoveKnownHost removes e by: the entry's first
// plain host that is not a pattern. Hashed entries, wildcard patterns and
// marker lines have none.
func removableHost(e sshconn.KnownHostEntry) (string, bool) {
	if e.Marker != "" {
		return "", false
	}
	for _, h := range e.Hosts {
		if h != "(hashed)" && !strings.ContainsAny(h, "*?!") {
			return h, true
		}
	}
	return "", false
}

// knownHostsProblem is problemFor for the known_hosts file: an error that is
// not the file system's is a line that does not parse.
func knownHostsProblem(what string, err error) certs.Finding {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) || errors.Is(err, context.Canceled) {
		return problemFor(what, err)
	}
	return problem(codeFile, what+": a line is not a known_hosts entry ("+err.Error()+")",
		"Fix or delete that line in a text editor (ssh-keygen -l -f FILE shows the entries it can read), then press Reload.")
}

// onRemove asks for the second press.
func (s *knownHostsScreen) onRemove() {
	if s.sel >= 0 && s.sel < len(s.entries) {
		s.confirm.Show()
	}
}

// onConfirmRemove removes the selected entry from the file, off the UI
// goroutine, and reloads the list.
func (s *knownHostsScreen) onConfirmRemove() {
	if s.sel < 0 || s.sel >= len(s.entries) {
		return
	}
	e := s.entries[s.sel]
	host, ok := removableHost(e)
	hashedLine := !ok && e.Hashed && e.Marker == ""
	if !ok && !hashedLine {
		return
	}
	if hashedLine {
		host = fmt.Sprintf("the hashed entry on line %d", e.Line)
	}
	path := s.env.KnownHosts
	s.confirm.Hide()
	s.remove.Disable()
	type out struct {
		removed []int
		err     error
	}
	run(&s.tasks, func(context.Context) out {
		if hashedLine {
			// By line, and only while that line still holds this key.
			if err := sshconn.RemoveKnownHostLine(path, e.Line, e.Fingerprint); err != nil {
				return out{err: err}
			}
			return out{removed: []int{e.Line}}
		}
		removed, err := sshconn.RemoveKnownHost(path, host)
		return out{removed, err}
	}, func(o out) {
		what := "Removing " + host + " from " + filepath.Base(path)
		switch {
		case o.err != nil && !errors.Is(o.err, sshconn.ErrKnownHostsChanged):
			s.findings.set([]certs.Finding{knownHostsProblem(what, o.err)})
			return
		case len(o.removed) == 0:
			s.findings.set([]certs.Finding{problem(codeFile, what+": the file no longer holds that host",
				"Press Reload to see what the file holds now.")})
			return
		}
		s.load()
	})
}
