package gui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

func TestSettingsScreen(t *testing.T) {
	cases := []struct {
		name        string
		concurrency string
		rollback    string
		user        string
		wantStatus  string
		wantSaved   bool
	}{
		{"saves valid values", "16", "300", "support", "Saved.", true},
		{"refuses zero concurrency", "0", "300", "admin", "Sensors at once: enter a whole number from 1 to 64", false},
		{"refuses short rollback deadline", "8", "5", "admin", "Rollback deadline: enter a whole number from 30 to 3600", false},
		{"refuses an empty user", "8", "120", "", "Default SSH user: enter a user name", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			s := newSettingsScreen(a.Preferences())
			test.NewTempWindow(t, s.build())
			s.concurrency.SetText("")
			test.Type(s.concurrency, c.concurrency)
			s.rollback.SetText("")
			test.Type(s.rollback, c.rollback)
			s.user.SetText("")
			test.Type(s.user, c.user)
			test.Tap(s.validation)
			s.form.OnSubmit()
			if got := s.status.Text; got != c.wantStatus {
				t.Fatalf("status %q, want %q", got, c.wantStatus)
			}
			got := LoadSettings(a.Preferences())
			if c.wantSaved {
				if got.Concurrency != 16 || got.RollbackDeadline != 300*time.Second || got.DefaultUser != "support" || !got.Validation {
					t.Errorf("saved %+v", got)
				}
			} else if got != DefaultSettings() {
				t.Errorf("a refused form changed the stored settings: %+v", got)
			}
		})
	}
}
