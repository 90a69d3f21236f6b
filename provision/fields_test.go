package provision

import (
	"strings"
	"testing"
)

// TestRowFieldErrors: the new columns' errors name the column, and a proxy
// password never comes from the CSV.
func TestRowFieldErrors(t *testing.T) {
	head := "sensor,address,ssh_user,auth,new_mask,activation,cert_source,crl_validation,crl,cert_name,proxy\n"
	for name, c := range map[string]struct{ line, want string }{
		"validation value": {"s1,192.0.2.1,admin,agent,24,a.tapact,self-signed,maybe,,,\n", "crl_validation"},
		"self-signed crl":  {"s1,192.0.2.1,admin,agent,24,a.tapact,self-signed,,x.crl,,\n", "leave cert, key, chain, pfx and crl empty"},
		"long name":        {"s1,192.0.2.1,admin,agent,24,a.tapact,self-signed,,," + strings.Repeat("n", 129) + ",\n", "cert_name"},
	} {
		_, err := ParseInventory(strings.NewReader(head+c.line), "/tmp", "t.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	inv, err := ParseInventory(strings.NewReader(head+"s1,192.0.2.1,admin,agent,24,a.tapact,self-signed,TRUE,,Lab,http://u:pw@192.0.2.8:3128\n"), "/tmp", "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := inv.Rows[0]
	if !r.CRLValidation || r.CertName != "Lab" || r.CertSource != CertSelfSigned {
		t.Fatalf("row %+v", r)
	}
	if _, err := r.Settings(); err == nil || !strings.Contains(err.Error(), "TAPLINE_PROXY_PASSWORD") {
		t.Fatalf("a password in the proxy URL: %v", err)
	}
	r.Proxy, r.ProxyPassword = "", "x"
	if _, err := r.Settings(); err == nil || !strings.Contains(err.Error(), "no proxy") {
		t.Fatalf("a password without a proxy: %v", err)
	}
	r.Proxy = "http://u@192.0.2.8:3128"
	s, err := r.Settings()
	if err != nil || s.Proxy.Password != "x" || !s.Console.CertValidation {
		t.Fatalf("settings %+v %v", s, err)
	}
}
