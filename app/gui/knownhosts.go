package gui

import (
	"bytes"
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
// app uses, sshconn.KnownHosts) with their key fingerprints, and removes
// the selected entry after a second, explicit press (the next connection
// then shows the fingerprint again for the engineer to confirm). The
// ssh-keygen -R command doing the same is shown for the terminal.
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
	s.remove = widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), s.onRemove)
	s.confirm = widget.NewButtonWithIcon("Yes, forget this host key", theme.DeleteIcon(), s.onConfirmRemove)
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
		s.remove.Disable()
		s.confirm.Hide()
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
	s.remove.Enable()
	s.confirm.Hide()
	s.detail.SetText(fmt.Sprintf("%s\n%s %s (line %d of the file)", e.Hosts, e.KeyType, e.Fingerprint, e.Line))
	host := strings.Split(e.Hosts, ",")[0]
	if strings.HasPrefix(host, "|1|") {
		host = "HOST"
	}
	s.command.SetText(fmt.Sprintf("ssh-keygen -R '%s' -f '%s'", host, s.env.KnownHosts))
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
	e, path := s.entries[s.sel], s.env.KnownHosts
	s.confirm.Hide()
	s.remove.Disable()
	run(&s.tasks, func(context.Context) error { return removeKnownHost(path, e) }, func(err error) {
		if err != nil {
			s.findings.set([]certs.Finding{problemFor("Removing "+e.Hosts+" from "+filepath.Base(path), err)})
			return
		}
		s.load()
	})
}

// errKnownHostsChanged says the file no longer holds the entry at the line
// it was read from.
var errKnownHostsChanged = errors.New("gui: known_hosts changed since it was read")

// removeKnownHost rewrites the known_hosts file at path without entry e. The
// line must still hold e (same hosts and fingerprint), or nothing changes.
// The new file replaces the old one by rename, with the old permissions.
func removeKnownHost(path string, e knownHost) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if e.Line < 1 || e.Line > len(lines) {
		return errKnownHostsChanged
	}
	got := parseKnownHosts(bytes.TrimSpace(lines[e.Line-1]))
	if len(got) != 1 || got[0].Hosts != e.Hosts || got[0].Fingerprint != e.Fingerprint {
		return errKnownHostsChanged
	}
	out := bytes.Join(append(lines[:e.Line-1:e.Line-1], lines[e.Line:]...), nil)
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".known_hosts-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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
