package activation

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func localReq() Request {
	return Request{SensorID: "S-0001", SensorName: "sensor-01", Site: "Plant A", Zone: "Cell 3", PlanID: "OT-500",
		Mode: ModeLocal, DeviceCount: 500, Expires: t0.AddDate(1, 0, 0)}
}

func TestVerify(t *testing.T) {
	a := newTestAuthority(t, t0.AddDate(-1, 0, 0), t0.AddDate(2, 0, 0))
	other := newTestAuthority(t, t0.AddDate(-1, 0, 0), t0.AddDate(2, 0, 0))
	local := a.issue(t, localReq(), t0)
	cloudReq := localReq()
	cloudReq.Mode, cloudReq.Expires = ModeCloud, time.Time{}
	cloud := a.issue(t, cloudReq, t0)
	tampered := bytes.Replace(local, []byte(`"payload": "`), []byte(`"payload": "e`), 1)
	// A signature swap: payload re-encoded with a different name, old signature kept.
	var env Envelope
	if err := json.Unmarshal(local, &env); err != nil {
		t.Fatal(err)
	}
	env.Payload = bytes.Replace(env.Payload, []byte("sensor-01"), []byte("sensor-02"), 1)
	swapped, _ := json.Marshal(env)

	cases := []struct {
		name    string
		data    []byte
		roots   *testAuthority
		sensor  string
		mode    Mode
		now     time.Time
		code    string // first refusal; "" means accepted
		warn    string
		msgPart string
	}{
		{"valid local", local, a, "sensor-01", "", t0.Add(time.Hour), "", "", ""},
		{"valid cloud", cloud, a, "sensor-01", ModeCloud, t0.AddDate(0, 0, 13), "", "", ""},
		{"other root", local, other, "sensor-01", "", t0, CodeUntrusted, "", "not signed under a trusted root"},
		{"altered payload", swapped, a, "sensor-02", "", t0, CodeUntrusted, "", "signature is bad"},
		{"garbled", tampered, a, "sensor-01", "", t0, CodeMalformed, "", "malformed"},
		{"other sensor", local, a, "sensor-02", "", t0, CodeWrongSensor, "", `for sensor "sensor-01", not "sensor-02"`},
		{"upload window", local, a, "sensor-01", "", t0.AddDate(0, 0, 15), CodeUploadWindow, "", "had to be uploaded by"},
		{"mode change", local, a, "sensor-01", ModeCloud, t0, CodeModeChange, "", "needs a new"},
		{"not yet issued", local, a, "sensor-01", "", t0.Add(-time.Hour), CodeNotYetIssued, "", "future"},
		{"empty", []byte{}, a, "sensor-01", "", t0, CodeMalformed, "", "the file is empty"},
		{"blank", []byte(" \n"), a, "sensor-01", "", t0, CodeMalformed, "", "the file is empty"},
		{"truncated", local[:len(local)/2], a, "sensor-01", "", t0, CodeMalformed, "", "ends early"},
		{"not JSON", []byte("-----BEGIN PUBLIC KEY-----\n"), a, "sensor-01", "", t0, CodeMalformed, "", "not an activation file"},
		{"two files joined", append(append([]byte{}, local...), local...), a, "sensor-01", "", t0, CodeMalformed, "", "data after"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Check(c.data, VerifyOptions{Roots: []ed25519.PublicKey{c.roots.rootPub}, SensorName: c.sensor, Mode: c.mode, Now: c.now})
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != c.code {
				t.Fatalf("got %v, want code %s", err, c.code)
			}
			if !strings.Contains(err.Error(), c.msgPart) {
				t.Errorf("message %q lacks %q", err, c.msgPart)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	a := newTestAuthority(t, t0.AddDate(-1, 0, 0), t0.AddDate(2, 0, 0))
	req := localReq()
	req.Expires = t0.AddDate(0, 0, 40)
	data := a.issue(t, req, t0)
	o := VerifyOptions{Roots: []ed25519.PublicKey{a.rootPub}, SensorName: "sensor-01"}

	o.Now = t0.AddDate(0, 0, 5)
	if fs, err := checkFindings(data, o); err != nil || len(fs) != 0 {
		t.Fatalf("40 days before expiry: %v %v", fs, err)
	}
	o.Now = t0.AddDate(0, 0, 12)
	fs, err := checkFindings(data, o)
	if err != nil || len(fs) != 1 || fs[0].Code != CodeExpiringSoon {
		t.Fatalf("28 days before expiry: want one warning, got %v %v", fs, err)
	}
	// Stored on the sensor after expiry: a warning, monitoring continues.
	o.Now, o.SkipUploadWindow = t0.AddDate(0, 0, 41), true
	fs, err = checkFindings(data, o)
	if err != nil || len(fs) != 1 || fs[0].Code != CodeExpired || !strings.Contains(fs[0].Message, "monitoring continues") {
		t.Fatalf("stored expired file: %v %v", fs, err)
	}
	f, _ := Parse(data)
	if !f.Summarize(o.Now).Expired {
		t.Error("summary does not show expiry")
	}
	// A new expired file is refused (a short-lived lab file).
	req.Expires = t0.Add(24 * time.Hour)
	data = a.issue(t, req, t0)
	o.SkipUploadWindow = false
	o.Now = t0.Add(48 * time.Hour)
	if _, err := checkFindings(data, o); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired new file accepted: %v", err)
	}
}

func checkFindings(data []byte, o VerifyOptions) ([]certs.Finding, error) {
	_, fs, err := Check(data, o)
	return fs, err
}

func TestIssueRefusals(t *testing.T) {
	a := newTestAuthority(t, t0, t0.AddDate(1, 0, 0))
	b := newTestAuthority(t, t0, t0.AddDate(1, 0, 0))
	if _, err := Issue(localReq(), b.key, a.signer, t0); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key: %v", err)
	}
	late := localReq()
	late.Expires = t0.AddDate(3, 0, 0)
	if _, err := Issue(late, a.key, a.signer, t0.AddDate(2, 0, 0)); err == nil || !strings.Contains(err.Error(), "not now") {
		t.Errorf("signer out of validity: %v", err)
	}
	r := localReq()
	r.Expires = time.Time{}
	if _, err := Issue(r, a.key, a.signer, t0); err == nil {
		t.Error("local file without expiry issued")
	}
}

func TestProductionRoot(t *testing.T) {
	roots, err := ProductionRoots()
	if err != nil || len(roots) != 1 {
		t.Fatalf("production root: %v", err)
	}
	a := newTestAuthority(t, t0, t0.AddDate(1, 0, 0))
	if _, _, err := Check(a.issue(t, localReq(), t0), VerifyOptions{Roots: roots, SensorName: "sensor-01", Now: t0}); err == nil {
		t.Fatal("a test-root file verified under the production root")
	}
}

func FuzzParse(f *testing.F) {
	a := newTestAuthority(f, t0, t0.AddDate(1, 0, 0))
	f.Add(a.issue(f, localReq(), t0))
	f.Add([]byte(`{"format":"tapline-activation/1"}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		_, _ = file.Verify(VerifyOptions{Roots: []ed25519.PublicKey{a.rootPub}, SensorName: "sensor-01", Now: t0})
	})
}
