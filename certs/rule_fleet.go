package certs

import "strings"

// FleetMember is one sensor's checked bundle in a fleet check.
type FleetMember struct {
	Name   string // the sensor's name as the engineer knows it (inventory row, hostname)
	Report *Report
}

// CheckFleet adds fleet findings to each member's Report: the same subject CN
// on two sensors, or the same certificate on two sensors, is an error on both
// (docs/field-facts.md: "One certificate per sensor"; CN "unique per appliance").
// Members whose certificate did not parse are skipped.
func CheckFleet(members []FleetMember) {
	byCN := map[string][]int{}
	byFP := map[string][]int{}
	for i, m := range members {
		if m.Report == nil || m.Report.Leaf == nil {
			continue
		}
		if cn := normName(m.Report.Leaf.Subject.CommonName); cn != "" {
			byCN[cn] = append(byCN[cn], i)
		}
		byFP[m.Report.FingerprintSHA256] = append(byFP[m.Report.FingerprintSHA256], i)
	}
	for i, m := range members {
		if m.Report == nil || m.Report.Leaf == nil {
			continue
		}
		fp := byFP[m.Report.FingerprintSHA256]
		if len(fp) > 1 {
			m.Report.Findings = append(m.Report.Findings, newFinding(CodeFleetDuplicateCert, "also on %s", others(members, fp, i)))
			continue // the same certificate has the same CN: one finding is enough
		}
		if cn := byCN[normName(m.Report.Leaf.Subject.CommonName)]; len(cn) > 1 {
			m.Report.Findings = append(m.Report.Findings, newFinding(CodeFleetDuplicateCN, "CN %q also on %s", m.Report.Leaf.Subject.CommonName, others(members, cn, i)))
		}
	}
}

func others(members []FleetMember, idx []int, self int) string {
	var names []string
	for _, j := range idx {
		if j != self {
			names = append(names, members[j].Name)
		}
	}
	return strings.Join(names, ", ")
}
