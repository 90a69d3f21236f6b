package gui

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tapline/tapline/certs"
)

// loadedFile is one file the engineer opened or dropped on the workbench:
// its bytes, what it holds by content, and lines that describe it.
type loadedFile struct {
	Path    string
	Data    []byte
	Kind    certs.Kind
	Summary []string
	Certs   []*x509.Certificate // parsed certificates, in file order
	Problem *certs.Finding      // set when it could not be read as its kind
}

// describeFile says what data (read from path) is, using the certs readers.
// It renders what they parse and decides nothing.
func describeFile(path string, data []byte, passphrase []byte) loadedFile {
	f := loadedFile{Path: path, Data: data, Kind: certs.Detect(data)}
	name := filepath.Base(path)
	fail := func(err error) {
		p := problemFor("Reading "+name, err)
		f.Problem = &p
	}
	switch f.Kind {
	case certs.KindCertificate:
		cs, err := certs.ParseCertificates(data)
		if err != nil {
			fail(err)
			break
		}
		f.Certs = cs
		for _, c := range cs {
			f.Summary = append(f.Summary, certLine(c))
		}
	case certs.KindPrivateKey, certs.KindEncryptedKey:
		k, err := certs.ParsePrivateKey(data, passphrase)
		if err != nil {
			if f.Kind == certs.KindEncryptedKey && len(passphrase) == 0 {
				f.Summary = append(f.Summary, "encrypted: enter its passphrase to read it")
				break
			}
			fail(err)
			break
		}
		f.Summary = append(f.Summary, keyLine(k))
	case certs.KindCRL:
		rl, err := certs.ParseCRL(data)
		if err != nil {
			fail(err)
			break
		}
		num := "no number"
		if rl.Number != nil {
			num = "number " + rl.Number.String()
		}
		f.Summary = append(f.Summary, fmt.Sprintf("issued by %s, %s, %d revoked", rl.Issuer.CommonName, num, len(rl.RevokedCertificateEntries)),
			"valid "+rl.ThisUpdate.UTC().Format("2006-01-02 15:04")+" to "+rl.NextUpdate.UTC().Format("2006-01-02 15:04")+" UTC")
	case certs.KindPKCS12:
		p, err := certs.ParsePKCS12(data, passphrase)
		if err != nil {
			if len(passphrase) == 0 {
				f.Summary = append(f.Summary, "enter its passphrase to read it")
				break
			}
			fail(&pkcs12Error{err})
			break
		}
		f.Certs = append([]*x509.Certificate{p.Leaf}, p.Chain...)
		f.Summary = append(f.Summary, keyLine(p.Key))
		for _, c := range f.Certs {
			f.Summary = append(f.Summary, certLine(c))
		}
	case certs.KindCSR:
		f.Summary = append(f.Summary, "a certificate request: issue it from the local CA or your plant CA")
	default:
		p := problem(codeFile, name+" is not a certificate, key, chain, PKCS#12 or CRL",
			"Open a .crt, .key, .pem, .p12/.pfx or CRL file.")
		switch {
		case len(bytes.TrimSpace(data)) == 0:
			p = problem(codeFile, name+" is empty", "Copy the file again from where it was issued; the copy holds nothing.")
		case bytes.Contains(data, []byte("-----BEGIN ")):
			p = problem(codeFile, name+" holds a PEM block that cannot be read: the file looks cut off or damaged",
				"Copy or export the file again; a PEM block must end with its -----END ... ----- line.")
		}
		f.Problem = &p
	}
	return f
}

func certLine(c *x509.Certificate) string {
	role := "certificate"
	if c.IsCA {
		role = "CA certificate"
	}
	sum := sha256.Sum256(c.Raw)
	fp := hex.EncodeToString(sum[:])
	return fmt.Sprintf("%s %q issued by %q, valid %s to %s, SHA-256 %s…",
		role, c.Subject.CommonName, c.Issuer.CommonName,
		c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"), fp[:16])
}

// keyLine describes a private key for the workbench.
func keyLine(k crypto.Signer) string {
	if _, ok := k.Public().(*rsa.PublicKey); ok {
		return "private key " + certs.KeyName(k.Public()) + " bits"
	}
	return "private key " + certs.KeyName(k.Public())
}

// sourceFrom hands the opened files to certs.CheckSensor by what they hold:
// the first file whose first certificate is not a CA is the certificate,
// every other certificate file goes into the chain (the chain may hold the
// leaf too; the reader sorts it out), keys, PKCS#12 and CRLs to their fields.
func sourceFrom(files []loadedFile, passphrase []byte) certs.Source {
	src := certs.Source{Passphrase: passphrase, Names: map[string]string{}}
	var chain []byte
	var chainNames []string
	addChain := func(f loadedFile) {
		for _, c := range f.Certs {
			chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		chainNames = append(chainNames, filepath.Base(f.Path))
	}
	for _, f := range files {
		name := filepath.Base(f.Path)
		switch f.Kind {
		case certs.KindCertificate:
			if src.Cert == nil && len(f.Certs) > 0 && !f.Certs[0].IsCA {
				src.Cert = f.Data
				src.Names["cert"] = name
				if len(f.Certs) > 1 {
					addChain(f)
				}
				continue
			}
			addChain(f)
		case certs.KindPrivateKey, certs.KindEncryptedKey:
			if src.Key == nil {
				src.Key = f.Data
				src.Names["key"] = name
			}
		case certs.KindPKCS12:
			if src.PFX == nil {
				src.PFX = f.Data
				src.Names["pfx"] = name
			}
		case certs.KindCRL:
			src.CRLs = append(src.CRLs, f.Data)
			src.Names["crl"] = name
		}
	}
	if len(chain) > 0 {
		src.Chain = chain
		src.Names["chain"] = strings.Join(chainNames, ", ")
	}
	return src
}
