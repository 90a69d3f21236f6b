package certs_test

import (
	"slices"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestCheckFleet(t *testing.T) {
	ca := mustCA(t)
	k := rsaKeys()[2]
	mk := func(h string) *certs.Report {
		leaf := ca.issue(t, leafTemplate(h), k.Public())
		return certs.CheckSensor(certs.Source{Cert: pemCerts(leaf), Key: pemKey(t, k), Chain: ca.chainPEM()}, certs.Target{Hostname: h}, now)
	}
	a, b := mk("s1.plant.example"), mk("s2.plant.example")
	sameCert := certs.CheckSensor(certs.Source{Cert: pemCerts(a.Leaf), Key: pemKey(t, k), Chain: ca.chainPEM()}, certs.Target{Hostname: "s1.plant.example"}, now)
	sameCN := mk("S1.plant.example")
	cases := []struct {
		name    string
		members []certs.FleetMember
		want    []string // code expected on each member, "" for none
	}{
		{"distinct", []certs.FleetMember{{"a", a}, {"b", b}}, []string{"", ""}},
		{"same certificate", []certs.FleetMember{{"a", a}, {"b", b}, {"c", sameCert}}, []string{certs.CodeFleetDuplicateCert, "", certs.CodeFleetDuplicateCert}},
		{"same cn", []certs.FleetMember{{"a", a}, {"d", sameCN}}, []string{certs.CodeFleetDuplicateCN, certs.CodeFleetDuplicateCN}},
		{"unparsed member", []certs.FleetMember{{"a", a}, {"x", &certs.Report{}}}, []string{"", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// work on copies so cases do not see each other's findings
			ms := make([]certs.FleetMember, len(c.members))
			for i, m := range c.members {
				r := *m.Report
				r.Findings = slices.Clone(r.Findings)
				ms[i] = certs.FleetMember{Name: m.Name, Report: &r}
			}
			certs.CheckFleet(ms)
			for i, m := range ms {
				got := codes(m.Report)
				fleet := slices.Contains(got, certs.CodeFleetDuplicateCN) || slices.Contains(got, certs.CodeFleetDuplicateCert)
				if c.want[i] == "" && fleet || c.want[i] != "" && !slices.Contains(got, c.want[i]) {
					t.Errorf("%s: codes %v, want %q", m.Name, got, c.want[i])
				}
			}
		})
	}
}
