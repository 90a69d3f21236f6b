package site

import (
	"strings"
	"testing"
	"time"
)

func TestSiteNames(t *testing.T) {
	for _, ok := range []string{"plant-a", "P1", "a_b-c", strings.Repeat("x", MaxSiteLen)} {
		if err := CheckSiteName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	// A dot, a wildcard or a space would change what subjects match.
	for _, bad := range []string{"", "plant.a", "plant*", "plant>", "plant a", "-a", "_a", "pläne", strings.Repeat("x", MaxSiteLen+1)} {
		if CheckSiteName(bad) == nil {
			t.Errorf("%q accepted as a site name", bad)
		}
	}
}

// TestTokenNoEscape: whatever a sensor's name holds, its token is one
// subject token (no '.', '*', '>' or space), distinct names give
// distinct tokens, and Untoken gives the name back.
func TestTokenNoEscape(t *testing.T) {
	names := []string{"sensor-01", "sensor.01", "sensor_01", "sensor~2E01", "*", ">", "a b", "ü", "s.>", ""}
	seen := map[string]string{}
	for _, n := range names {
		tok := Token(n)
		if strings.ContainsAny(tok, ".*> \t") {
			t.Errorf("Token(%q) = %q is not one subject token", n, tok)
		}
		if o, dup := seen[tok]; dup {
			t.Errorf("%q and %q share the token %q", n, o, tok)
		}
		seen[tok] = n
		if back, ok := Untoken(tok); !ok || back != n {
			t.Errorf("Untoken(%q) = %q, %v; want %q", tok, back, ok, n)
		}
	}
	for _, bad := range []string{"a.b", "~2", "~zz", "~2e", "a*"} {
		if _, ok := Untoken(bad); ok {
			t.Errorf("Untoken accepted %q", bad)
		}
	}
}

func TestParseAndDecode(t *testing.T) {
	s := Subjects{Site: "plant-a", Sensor: "sensor.01"}
	for _, subj := range []string{s.Status(), s.Health(), s.Ops(), s.Asset("ip:192.0.2.1"), s.Alert("0123456789abcdef"), s.Ack("0123456789abcdef")} {
		p, ok := Parse(subj)
		if !ok || p.Site != "plant-a" || p.Sensor != "sensor.01" {
			t.Errorf("Parse(%q) = %+v, %v", subj, p, ok)
		}
	}
	for _, bad := range []string{"tapline.plant-a.x", "other.plant-a.x.status", "tapline.plant-a.x.status.extra", "tapline.plant-a.x.asset", "tapline.plant-a.x.nope"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse accepted %q", bad)
		}
	}
	p, _ := Parse(s.Asset("ip:192.0.2.1"))
	good := `{"type":"asset","site":"plant-a","sensor":"sensor.01","time":"2026-12-01T00:00:00Z","asset":{"id":"ip:192.0.2.1","identity":{},"first_seen":"2026-12-01T00:00:00Z","last_seen":"2026-12-01T00:00:00Z"}}`
	if _, err := Decode(p, []byte(good)); err != nil {
		t.Fatal(err)
	}
	// A message claiming another sensor, or an asset on another's key.
	for _, bad := range []string{
		strings.Replace(good, `"sensor":"sensor.01"`, `"sensor":"sensor-02"`, 1),
		strings.Replace(good, `"id":"ip:192.0.2.1"`, `"id":"ip:192.0.2.2"`, 1),
		strings.Replace(good, `"type":"asset"`, `"type":"alert"`, 1),
	} {
		if _, err := Decode(p, []byte(bad)); err == nil {
			t.Errorf("Decode accepted %s", bad)
		}
	}
	a := Alert{Rule: "s7-plc-stop", Src: "192.0.2.1", Dst: "192.0.2.2", Protocol: "s7comm", Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if k := AlertKey(a); len(k) != 16 || k != AlertKey(a) {
		t.Fatalf("AlertKey %q", k)
	}
}
