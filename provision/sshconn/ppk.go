package sshconn

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/ssh"
)

// PuTTY private key files (.ppk), versions 2 and 3, as PuTTY's puttygen
// writes them (PuTTY manual, appendix C "PPK file format"):
//
//	PuTTY-User-Key-File-3: ssh-ed25519
//	Encryption: aes256-cbc | none
//	Comment: ...
//	Public-Lines: N, then N lines of base64 (the SSH public key blob)
//	Key-Derivation: Argon2id | Argon2i | Argon2d   (version 3, encrypted)
//	Argon2-Memory, Argon2-Passes, Argon2-Parallelism, Argon2-Salt
//	Private-Lines: N, then N lines of base64 (the private fields)
//	Private-MAC: hex
//
// Version 3 derives the AES-256-CBC key, its IV and an HMAC-SHA-256 key
// from the passphrase with Argon2 (an unencrypted file has an empty MAC
// key); version 2 derives the cipher key with SHA-1 (IV zero) and an
// HMAC-SHA-1 key from "putty-private-key-file-mac-key" and the passphrase.
// The MAC covers the algorithm, encryption, comment, public blob and the
// decrypted private blob, so a wrong passphrase shows as a MAC mismatch.

const ppkMagic = "PuTTY-User-Key-File-"

// Bounds on what a key file may ask of the laptop: a hostile file must not
// make reading it take minutes or gigabytes.
const (
	ppkMaxLines       = 256     // base64 lines per blob (PuTTY writes 64 characters a line)
	ppkMaxArgonMemory = 1 << 20 // KiB: 1 GiB; puttygen writes 8192 unless told otherwise
	ppkMaxArgonPasses = 1000
	ppkMaxArgonLanes  = 64
)

// isPPK reports whether data is a PuTTY private key file.
func isPPK(data []byte) bool { return bytes.HasPrefix(data, []byte(ppkMagic)) }

// ppkFile is a PuTTY private key file's fields.
type ppkFile struct {
	version    int
	algorithm  string
	encryption string
	comment    string
	public     []byte
	private    []byte
	mac        []byte
	kdf        string
	memory     uint32
	passes     uint32
	lanes      uint8
	salt       []byte
}

// encrypted reports whether the private blob needs a passphrase.
func (k *ppkFile) encrypted() bool { return k.encryption != "none" }

// parsePPKFile reads the fields of a .ppk file. Line ends may be LF or CRLF.
func parsePPKFile(data []byte) (*ppkFile, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	k := &ppkFile{}
	i := 0
	next := func() (string, string, error) {
		for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
			i++
		}
		if i >= len(lines) {
			return "", "", errors.New("the file ends early")
		}
		name, value, ok := strings.Cut(lines[i], ": ")
		if !ok {
			return "", "", fmt.Errorf("line %d is not a \"Name: value\" header", i+1)
		}
		i++
		return name, strings.TrimSpace(value), nil
	}
	blob := func(count string) ([]byte, error) {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 || n > ppkMaxLines {
			return nil, fmt.Errorf("line count %q is not 1 to %d", count, ppkMaxLines)
		}
		if i+n > len(lines) {
			return nil, errors.New("the file ends inside a key blob")
		}
		b, err := base64.StdEncoding.DecodeString(strings.Join(lines[i:i+n], ""))
		if err != nil {
			return nil, fmt.Errorf("key blob: %v", err)
		}
		i += n
		return b, nil
	}
	name, value, err := next()
	if err != nil {
		return nil, err
	}
	switch name {
	case ppkMagic + "2":
		k.version = 2
	case ppkMagic + "3":
		k.version = 3
	case ppkMagic + "1":
		return nil, errors.New("PuTTY key format version 1 is too old: load and save it again in PuTTYgen")
	default:
		return nil, fmt.Errorf("unknown PuTTY key format %q: this reads versions 2 and 3", name)
	}
	k.algorithm = value
	for {
		name, value, err := next()
		if err != nil {
			return nil, err
		}
		switch name {
		case "Encryption":
			k.encryption = value
		case "Comment":
			k.comment = value
		case "Public-Lines":
			if k.public, err = blob(value); err != nil {
				return nil, err
			}
		case "Private-Lines":
			if k.private, err = blob(value); err != nil {
				return nil, err
			}
		case "Key-Derivation":
			k.kdf = value
		case "Argon2-Memory", "Argon2-Passes", "Argon2-Parallelism":
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s %q is not a number", name, value)
			}
			switch name {
			case "Argon2-Memory":
				k.memory = uint32(n)
			case "Argon2-Passes":
				k.passes = uint32(n)
			default:
				if n > 255 {
					return nil, fmt.Errorf("%s %d is out of range", name, n)
				}
				k.lanes = uint8(n)
			}
		case "Argon2-Salt":
			if k.salt, err = hex.DecodeString(value); err != nil {
				return nil, fmt.Errorf("Argon2-Salt is not hex")
			}
		case "Private-MAC":
			if k.mac, err = hex.DecodeString(value); err != nil {
				return nil, fmt.Errorf("Private-MAC is not hex")
			}
			return k, k.complete()
		case "Private-Hash":
			return nil, errors.New("a version 2 file with Private-Hash is from PuTTY before 0.52: load and save it again in PuTTYgen")
		default:
			return nil, fmt.Errorf("unknown header %q", name)
		}
	}
}

// complete checks that every field the file's version needs is there.
func (k *ppkFile) complete() error {
	switch {
	case k.encryption != "none" && k.encryption != "aes256-cbc":
		return fmt.Errorf("unknown encryption %q", k.encryption)
	case k.public == nil || k.private == nil:
		return errors.New("the public or private lines are missing")
	case k.version == 3 && k.encrypted():
		switch k.kdf {
		case "Argon2id", "Argon2i":
		case "Argon2d":
			return errors.New("Argon2d key derivation is not supported: save the key again in PuTTYgen with Argon2id (puttygen KEY.ppk -o NEW.ppk --ppk-param kdf=argon2id)")
		default:
			return fmt.Errorf("unknown key derivation %q", k.kdf)
		}
		if k.memory < 8 || k.memory > ppkMaxArgonMemory || k.passes < 1 || k.passes > ppkMaxArgonPasses ||
			k.lanes < 1 || k.lanes > ppkMaxArgonLanes || len(k.salt) == 0 {
			return fmt.Errorf("Argon2 parameters out of range (memory %d KiB, passes %d, parallelism %d; at most %d KiB, %d, %d)",
				k.memory, k.passes, k.lanes, ppkMaxArgonMemory, ppkMaxArgonPasses, ppkMaxArgonLanes)
		}
	}
	return nil
}

// keys derives the cipher key, IV and MAC key for passphrase.
func (k *ppkFile) keys(passphrase []byte) (key, iv, macKey []byte) {
	if k.version == 2 {
		var ck []byte
		for seq := uint32(0); len(ck) < 32; seq++ {
			h := sha1.New()
			binary.Write(h, binary.BigEndian, seq)
			h.Write(passphrase)
			ck = h.Sum(ck)
		}
		mh := sha1.New()
		mh.Write([]byte("putty-private-key-file-mac-key"))
		mh.Write(passphrase)
		return ck[:32], make([]byte, aes.BlockSize), mh.Sum(nil)
	}
	if !k.encrypted() {
		return nil, nil, nil
	}
	var out []byte
	if k.kdf == "Argon2i" {
		out = argon2.Key(passphrase, k.salt, k.passes, k.memory, k.lanes, 80)
	} else {
		out = argon2.IDKey(passphrase, k.salt, k.passes, k.memory, k.lanes, 80)
	}
	return out[:32], out[32:48], out[48:]
}

// errPPKMAC says the MAC did not match: a wrong passphrase for an encrypted
// file, a damaged or edited file otherwise.
var errPPKMAC = errors.New("ppk: MAC mismatch")

// decrypt returns the private blob, checked against the file's MAC.
func (k *ppkFile) decrypt(passphrase []byte) ([]byte, error) {
	if !k.encrypted() {
		passphrase = nil
	}
	key, iv, macKey := k.keys(passphrase)
	priv := append([]byte(nil), k.private...)
	if k.encrypted() {
		if len(priv)%aes.BlockSize != 0 {
			return nil, errors.New("the private lines are not whole AES blocks")
		}
		b, _ := aes.NewCipher(key)
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(priv, priv)
	}
	var mac hash.Hash
	if k.version == 2 {
		mac = hmac.New(sha1.New, macKey)
	} else {
		mac = hmac.New(sha256.New, macKey)
	}
	for _, f := range [][]byte{[]byte(k.algorithm), []byte(k.encryption), []byte(k.comment), k.public, priv} {
		binary.Write(mac, binary.BigEndian, uint32(len(f)))
		mac.Write(f)
	}
	if !hmac.Equal(mac.Sum(nil), k.mac) {
		clear(priv)
		return nil, errPPKMAC
	}
	return priv, nil
}

// signer builds the key from the public blob and the decrypted private
// fields, and checks that the two halves belong together.
func (k *ppkFile) signer(priv []byte) (ssh.Signer, error) {
	switch strings.TrimSuffix(k.algorithm, "-cert-v01@openssh.com") {
	case ssh.KeyAlgoDSA:
		return nil, errors.New("DSA keys are obsolete and OpenSSH refuses them: make an ed25519 key (puttygen -t ed25519)")
	case "ssh-ed448":
		return nil, errors.New("Ed448 keys are not supported by OpenSSH: make an ed25519 key (puttygen -t ed25519)")
	}
	pub, err := ssh.ParsePublicKey(k.public)
	if err != nil {
		return nil, fmt.Errorf("public key: %v", err)
	}
	if pub.Type() != k.algorithm {
		return nil, fmt.Errorf("the header says %s but the public key is %s", k.algorithm, pub.Type())
	}
	cert, _ := pub.(*ssh.Certificate)
	base := pub
	if cert != nil {
		base = cert.Key
	}
	pubFields := sshFields(base.Marshal())
	pubFields.str() // the key type
	privFields := sshFields(priv)
	var key any
	switch base.Type() {
	case ssh.KeyAlgoRSA:
		e, n := pubFields.mpint(), pubFields.mpint()
		d, p, q, _ := privFields.mpint(), privFields.mpint(), privFields.mpint(), privFields.mpint()
		if privFields.err != nil || pubFields.err != nil || !e.IsInt64() {
			break
		}
		if n.BitLen() > 16384 {
			return nil, fmt.Errorf("RSA key of %d bits: OpenSSH takes at most 16384", n.BitLen())
		}
		rk := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())}, D: d, Primes: []*big.Int{p, q}}
		if err := rk.Validate(); err != nil {
			return nil, fmt.Errorf("RSA key: %v", err)
		}
		rk.Precompute()
		key = rk
	case ssh.KeyAlgoED25519:
		pubKey := pubFields.str()
		seed := privFields.str()
		if privFields.err != nil || pubFields.err != nil || len(seed) != ed25519.SeedSize {
			break
		}
		ek := ed25519.NewKeyFromSeed(seed)
		if !bytes.Equal(ek.Public().(ed25519.PublicKey), pubKey) {
			return nil, errors.New("the private key does not match the public key")
		}
		key = ek
	case ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		curve := base.(ssh.CryptoPublicKey).CryptoPublicKey().(*ecdsa.PublicKey).Curve
		d := privFields.mpint()
		size := (curve.Params().BitSize + 7) / 8
		if privFields.err != nil || d.BitLen() > size*8 {
			break
		}
		ek, err := ecdsa.ParseRawPrivateKey(curve, d.FillBytes(make([]byte, size)))
		if err != nil {
			return nil, fmt.Errorf("ECDSA key: %v", err)
		}
		key = ek
	default:
		return nil, fmt.Errorf("key type %s is not supported: use an ed25519, ECDSA or RSA key", base.Type())
	}
	if key == nil {
		return nil, errors.New("the private fields are malformed")
	}
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(s.PublicKey().Marshal(), base.Marshal()) {
		return nil, errors.New("the private key does not match the public key")
	}
	if cert != nil {
		return ssh.NewCertSigner(cert, s)
	}
	return s, nil
}

// sshReader reads RFC 4251 §5 fields (string, mpint) and keeps the first
// error.
type sshReader struct {
	b   []byte
	err error
}

func sshFields(b []byte) *sshReader { return &sshReader{b: b} }

func (r *sshReader) str() []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < 4 {
		r.err = errors.New("short field")
		return nil
	}
	n := binary.BigEndian.Uint32(r.b)
	if uint64(n) > uint64(len(r.b)-4) {
		r.err = errors.New("field longer than its blob")
		return nil
	}
	s := r.b[4 : 4+n]
	r.b = r.b[4+n:]
	return s
}

func (r *sshReader) mpint() *big.Int {
	s := r.str()
	if r.err != nil {
		return nil
	}
	if len(s) > 0 && s[0]&0x80 != 0 {
		r.err = errors.New("negative integer")
		return nil
	}
	return new(big.Int).SetBytes(s)
}
