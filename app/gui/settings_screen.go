package gui

import (
	"fmt"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// settingsScreen edits Settings and saves them to the app's preferences.
type settingsScreen struct {
	prefs fyne.Preferences

	concurrency *widget.Entry
	connect     *widget.Entry
	rollback    *widget.Entry
	user        *widget.Entry
	validation  *widget.Check
	filesDir    *widget.Entry
	status      *widget.Label
	form        *widget.Form
}

func newSettingsScreen(prefs fyne.Preferences) *settingsScreen {
	s := &settingsScreen{
		prefs:       prefs,
		concurrency: widget.NewEntry(),
		connect:     widget.NewEntry(),
		rollback:    widget.NewEntry(),
		user:        widget.NewEntry(),
		validation:  widget.NewCheck("Enable certificate validation by default", nil),
		filesDir:    widget.NewEntry(),
		status:      widget.NewLabel(""),
	}
	s.filesDir.SetPlaceHolder("default: the app's storage folder")
	s.load(LoadSettings(prefs))
	return s
}

func (s *settingsScreen) load(v Settings) {
	s.concurrency.SetText(strconv.Itoa(v.Concurrency))
	s.connect.SetText(strconv.Itoa(int(v.ConnectTimeout / time.Second)))
	s.rollback.SetText(strconv.Itoa(int(v.RollbackDeadline / time.Second)))
	s.user.SetText(v.DefaultUser)
	s.validation.SetChecked(v.Validation)
	s.filesDir.SetText(v.FilesDir)
}

func (s *settingsScreen) build() fyne.CanvasObject {
	s.form = &widget.Form{
		Items: []*widget.FormItem{
			{Text: "Sensors at once", Widget: s.concurrency, HintText: "1 to 64"},
			{Text: "Connect timeout (s)", Widget: s.connect, HintText: "1 to 300"},
			{Text: "Rollback deadline (s)", Widget: s.rollback, HintText: "30 to 3600; the sensor reverts an unconfirmed address change after this"},
			{Text: "Default SSH user", Widget: s.user},
			{Text: "Certificate validation", Widget: s.validation},
			{Text: "Files folder", Widget: s.filesDir},
		},
		SubmitText: "Save",
		OnSubmit:   s.onSave,
	}
	return widgetVBox(s.form, s.status)
}

// read validates the form into Settings.
func (s *settingsScreen) read() (Settings, error) {
	var v Settings
	var err error
	if v.Concurrency, err = parseBounded("Sensors at once", s.concurrency.Text, 1, 64); err != nil {
		return v, err
	}
	n, err := parseBounded("Connect timeout", s.connect.Text, 1, 300)
	if err != nil {
		return v, err
	}
	v.ConnectTimeout = time.Duration(n) * time.Second
	if n, err = parseBounded("Rollback deadline", s.rollback.Text, 30, 3600); err != nil {
		return v, err
	}
	v.RollbackDeadline = time.Duration(n) * time.Second
	if s.user.Text == "" {
		return v, fmt.Errorf("%s: enter a user name", "Default SSH user")
	}
	v.DefaultUser = s.user.Text
	v.Validation = s.validation.Checked
	v.FilesDir = s.filesDir.Text
	return v, nil
}

func (s *settingsScreen) onSave() {
	v, err := s.read()
	if err != nil {
		s.status.SetText(err.Error())
		return
	}
	v.Save(s.prefs)
	s.status.SetText("Saved.")
}
