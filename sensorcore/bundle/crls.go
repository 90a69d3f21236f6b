package bundle

import (
	"encoding/pem"
	"fmt"

	"github.com/tapline/tapline/certs"
)

// CRLFile puts the CRL files an engineer gave (each PEM or DER, a PEM file
// possibly holding several CRLs) into one bundle file: a single CRL travels
// as crl.crl, byte for byte as given, which every appliance reads; two or
// more travel as crls.pem, one X509 CRL PEM block each, in the order given.
// An appliance that predates the crls role refuses such a bundle (its
// manifest names a role it does not know) instead of reading the first CRL
// of crl.crl and ignoring the rest. No files give a zero role.
func CRLFile(files [][]byte) (Role, []byte, error) {
	var ders [][]byte
	for i, f := range files {
		d, err := certs.SplitCRLs(f)
		if err != nil {
			return "", nil, fmt.Errorf("CRL file %d: %w", i+1, err)
		}
		ders = append(ders, d...)
	}
	switch {
	case len(ders) == 0:
		return "", nil, nil
	case len(ders) == 1 && len(files) == 1:
		return RoleCRL, files[0], nil
	case len(ders) > certs.MaxCRLsPerFile:
		return "", nil, fmt.Errorf("%d CRLs, over %d in one bundle", len(ders), certs.MaxCRLsPerFile)
	}
	return RoleCRLs, EncodeCRLs(ders), nil
}

// EncodeCRLs writes CRLs (DER) as X509 CRL PEM blocks, in order.
func EncodeCRLs(ders [][]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: d})...)
	}
	return out
}

// CRLs returns the bundle's CRL file (crl.crl or crls.pem) and its name;
// nil when it carries none.
func (b *Bundle) CRLs() ([]byte, string) {
	for _, r := range []Role{RoleCRLs, RoleCRL} {
		if d := b.File(r); len(d) > 0 {
			return d, FileName(r)
		}
	}
	return nil, ""
}
