package gui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/certs"
)

// knownHost is one entry of the known_hosts file as OpenSSH's format
// (decoded by x/crypto/ssh) holds it.
type knownHost struct {
	Line        int
	Hosts       string
	KeyType     string
	Fingerprint string
	Marker      string
}

// knownHostsScreen lists the hosts pushes trust (the known_hosts file the
// app uses, sshconn.KnownHosts) with their key fingerprints. Removing an
// entry is left to ssh-keygen -R until sshconn offers it; the screen gives
// the exact command for the selected host.
type knownHostsScreen struct {
	env   Env
	tasks tasks

	entries  []knownHost
	sel      int
	file     *widget.Label
	list     *widget.List
	detail   *widget.Label
	command  *widget.Label
	copyBtn  *widget.Button
	reload   *widget.Button
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
				o.(*widget.Label).SetText(e.Hosts + "   " + e.KeyType + "   " + e.Fingerprint)
			}
		})
	s.list.OnSelected = func(id widget.ListItemID) { s.sel = id; s.showSelected() }
	s.reload = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), s.load)
	s.copyBtn = widget.NewButtonWithIcon("Copy command", theme.ContentCopyIcon(), func() {
		if s.env.App != nil && s.command.Text != "" {
			s.env.App.Clipboard().SetContent(s.command.Text)
		}
	})
	s.load()
	return s
}

func (s *knownHostsScreen) build() fyne.CanvasObject {
	top := container.NewVBox(s.file, container.NewHBox(s.reload), s.findings.box)
	bottom := widget.NewCard("Selected host", "", container.NewVBox(s.detail,
		widget.NewLabel("To remove it (for example after a sensor was reinstalled), run:"),
		container.NewBorder(nil, nil, nil, s.copyBtn, s.command)))
	return container.NewBorder(top, bottom, nil, nil, s.list)
}

// load reads the file off the UI goroutine.
func (s *knownHostsScreen) load() {
	path := s.env.KnownHosts
	type out struct {
		es  []knownHost
		err error
	}
	run(&s.tasks, func(context.Context) out {
		es, err := readKnownHosts(path)
		return out{es, err}
	}, func(o out) {
		s.entries, s.sel = o.es, -1
		s.list.UnselectAll()
		s.list.Refresh()
		s.detail.SetText("Select a host.")
		s.command.SetText("")
		switch {
		case errors.Is(o.err, os.ErrNotExist):
			s.file.SetText("No host trusted yet: " + path + " is created at the first confirmed connection.")
			s.findings.set(nil)
		case o.err != nil:
			s.file.SetText(path)
			s.findings.set([]certs.Finding{problemFor("Reading "+path, o.err)})
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
	s.detail.SetText(fmt.Sprintf("%s\n%s %s (line %d of the file)", e.Hosts, e.KeyType, e.Fingerprint, e.Line))
	host := strings.Split(e.Hosts, ",")[0]
	if strings.HasPrefix(host, "|1|") {
		host = "HOST"
	}
	s.command.SetText(fmt.Sprintf("ssh-keygen -R '%s' -f '%s'", host, s.env.KnownHosts))
}

// readKnownHosts lists the entries of an OpenSSH known_hosts file; lines
// that do not decode are skipped, as OpenSSH does.
func readKnownHosts(path string) ([]knownHost, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseKnownHosts(data), nil
}

// parseKnownHosts decodes known_hosts content; it never fails, it skips.
func parseKnownHosts(data []byte) []knownHost {
	var out []knownHost
	line := 0
	for _, raw := range bytes.SplitAfter(data, []byte("\n")) {
		line++
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(t)
		if err != nil {
			continue
		}
		out = append(out, knownHost{Line: line, Hosts: strings.Join(hosts, ","), KeyType: key.Type(),
			Fingerprint: ssh.FingerprintSHA256(key), Marker: marker})
	}
	return out
}
