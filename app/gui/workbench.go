package gui

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
)

// workbenchScreen is the certificate workbench: open or drop certificates,
// keys, chains, PKCS#12 files and CRLs, see what each is and what the
// sensor would say about them for a target hostname (certs.CheckSensor).
type workbenchScreen struct {
	env   Env
	tasks tasks
	files []loadedFile

	hostname   *widget.Entry
	ip         *widget.Entry
	passphrase *widget.Entry
	validation *widget.Check
	openBtn    *widget.Button
	clearBtn   *widget.Button
	checkBtn   *widget.Button
	fileBox    *fyne.Container
	verdict    *widget.Label
	findings   *findingsView
	ca         *caPanel
	tabs       *container.AppTabs
}

func newWorkbenchScreen(env Env) *workbenchScreen {
	s := &workbenchScreen{
		env:        env,
		tasks:      tasks{ui: env.ui},
		hostname:   widget.NewEntry(),
		ip:         widget.NewEntry(),
		passphrase: widget.NewPasswordEntry(),
		validation: widget.NewCheck("Enable certificate validation (CRL)", nil),
		fileBox:    container.NewVBox(),
		verdict:    widget.NewLabel(""),
		findings:   newFindingsView(""),
	}
	s.hostname.SetPlaceHolder("sensor-01.plant.example")
	s.ip.SetPlaceHolder("optional, e.g. 192.0.2.10")
	s.passphrase.SetPlaceHolder("key or PKCS#12 passphrase, if any")
	s.hostname.OnSubmitted = func(string) { s.onCheck() }
	s.openBtn = widget.NewButtonWithIcon("Open file…", theme.FolderOpenIcon(), s.onOpen)
	s.clearBtn = widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), s.onClear)
	s.checkBtn = widget.NewButtonWithIcon("Check for this sensor", theme.ConfirmIcon(), s.onCheck)
	s.checkBtn.Importance = widget.HighImportance
	s.verdict.Wrapping = fyne.TextWrapWord
	if env.App != nil {
		s.validation.SetChecked(LoadSettings(env.App.Preferences()).Validation)
	}
	s.ca = newCAPanel(env)
	s.refresh()
	return s
}

func (s *workbenchScreen) build() fyne.CanvasObject {
	form := &widget.Form{Items: []*widget.FormItem{
		{Text: "Sensor hostname (FQDN)", Widget: s.hostname},
		{Text: "Sensor IP", Widget: s.ip},
		{Text: "Passphrase", Widget: s.passphrase, HintText: "used only in memory, never saved"},
		{Text: "", Widget: s.validation},
	}}
	buttons := container.NewHBox(s.openBtn, s.clearBtn, s.checkBtn)
	hint := widget.NewLabel("Open or drop any certificate, key, chain, PKCS#12 or CRL onto the window.")
	hint.Importance = widget.LowImportance
	top := container.NewVBox(form, buttons, hint)
	files := widget.NewCard("Files", "", s.fileBox)
	result := widget.NewCard("What the sensor would say", "", container.NewVBox(s.verdict, s.findings.box))
	split := container.NewVSplit(container.NewVScroll(files), container.NewVScroll(result))
	split.SetOffset(0.4)
	inspect := newBorder(top, nil, nil, nil, split)
	s.tabs = container.NewAppTabs(
		container.NewTabItem("Inspect", inspect),
		container.NewTabItem("Local CA", s.ca.build()),
	)
	return s.tabs
}

// refresh redraws the file list and the buttons' state.
func (s *workbenchScreen) refresh() {
	s.fileBox.RemoveAll()
	if len(s.files) == 0 {
		s.fileBox.Add(widget.NewLabel("No files yet."))
		s.clearBtn.Disable()
		s.checkBtn.Disable()
		return
	}
	s.clearBtn.Enable()
	s.checkBtn.Enable()
	for _, f := range s.files {
		title := widget.NewLabel(filepath.Base(f.Path) + ": " + string(f.Kind))
		title.TextStyle = fyne.TextStyle{Bold: true}
		s.fileBox.Add(title)
		for _, line := range f.Summary {
			l := widget.NewLabel("    " + line)
			l.Wrapping = fyne.TextWrapWord
			s.fileBox.Add(l)
		}
		if f.Problem != nil {
			s.fileBox.Add(findingRow(*f.Problem))
		}
	}
}

// addPaths reads and describes files off the UI goroutine, then lists them.
func (s *workbenchScreen) addPaths(paths []string) {
	pass := []byte(s.passphrase.Text)
	run(&s.tasks, func(context.Context) []loadedFile {
		out := make([]loadedFile, 0, len(paths))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				pr := problemFor("Reading "+filepath.Base(p), err)
				out = append(out, loadedFile{Path: p, Kind: certs.KindUnknown, Problem: &pr})
				continue
			}
			out = append(out, describeFile(p, data, pass))
		}
		return out
	}, func(fs []loadedFile) {
		s.files = append(s.files, fs...)
		s.refresh()
		if strings.TrimSpace(s.hostname.Text) != "" {
			s.onCheck()
		}
	})
}

func (s *workbenchScreen) onOpen() {
	s.env.openFile(func(p string) { s.addPaths([]string{p}) })
}

func (s *workbenchScreen) onClear() {
	s.files = nil
	s.findings.set(nil)
	s.verdict.SetText("")
	s.refresh()
}

// onCheck runs certs.CheckSensor on the opened files for the target.
func (s *workbenchScreen) onCheck() {
	host := strings.TrimSpace(s.hostname.Text)
	var t certs.Target
	t.Hostname = host
	t.CRLValidation = s.validation.Checked
	if txt := strings.TrimSpace(s.ip.Text); txt != "" {
		ip, err := netip.ParseAddr(txt)
		if err != nil {
			s.verdict.SetText("")
			s.findings.set([]certs.Finding{fieldProblem("Sensor IP", "Enter an IPv4 or IPv6 address such as 192.0.2.10, or leave it empty.")})
			return
		}
		t.IP = ip
	}
	if host == "" {
		s.verdict.SetText("")
		s.findings.set([]certs.Finding{fieldProblem("Sensor hostname", "Enter the sensor's FQDN, the name the certificate must carry.")})
		return
	}
	if len(s.files) == 0 {
		return
	}
	pass := []byte(s.passphrase.Text)
	files := s.files
	now := s.env.Now()
	s.checkBtn.Disable()
	s.verdict.SetText("Checking…")
	type out struct {
		files []loadedFile
		rep   *certs.Report
	}
	run(&s.tasks, func(context.Context) out {
		again := make([]loadedFile, len(files))
		for i, f := range files {
			if f.Data == nil {
				again[i] = f
				continue
			}
			again[i] = describeFile(f.Path, f.Data, pass)
		}
		return out{again, certs.CheckSensor(sourceFrom(again, pass), t, now)}
	}, func(o out) {
		s.files = o.files
		s.refresh()
		s.showReport(host, o.rep)
	})
}

func (s *workbenchScreen) showReport(host string, r *certs.Report) {
	var errs, warns int
	for _, f := range r.Findings {
		switch f.Severity {
		case certs.SeverityError:
			errs++
		case certs.SeverityWarning:
			warns++
		}
	}
	var b strings.Builder
	switch {
	case errs > 0:
		b.WriteString("The sensor would refuse this certificate for " + host + ".")
	case warns > 0:
		b.WriteString("The sensor would accept this certificate for " + host + ", with warnings to review.")
	default:
		b.WriteString("The sensor would accept this certificate for " + host + ". No findings.")
	}
	if r.FingerprintSHA256 != "" {
		b.WriteString("\nCertificate SHA-256: " + r.FingerprintSHA256)
	}
	s.verdict.SetText(b.String())
	s.findings.set(r.Findings)
}
