package certs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Object identifiers of PKCS#5 v2.1 (RFC 8018) and the ciphers it names.
var (
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA24 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA56 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA84 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA12 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC    = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// encryptedPrivateKeyInfo is RFC 5958 §3 EncryptedPrivateKeyInfo.
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// pbes2Params is RFC 8018 §A.4 PBES2-params.
type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

// pbkdf2Params is RFC 8018 §A.2 PBKDF2-params (salt as specified OCTET STRING).
type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// maxPBKDF2Iterations bounds the work a hostile file can ask for.
const maxPBKDF2Iterations = 2_000_000

// decryptPKCS8 opens an RFC 5958 EncryptedPrivateKeyInfo protected with PBES2
// (RFC 8018 §6.2): PBKDF2 with HMAC-SHA1/224/256/384/512, AES-128/192/256-CBC
// or DES-EDE3-CBC. It returns the PKCS#8 PrivateKeyInfo DER. A wrong
// passphrase shows as bad padding or an unparsable result: ErrIncorrectPassphrase.
func decryptPKCS8(der, passphrase []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(der, &info)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("certs: encrypted PKCS#8: malformed structure")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("%w: encrypted PKCS#8 with %v (only PBES2 is read; re-encrypt with 'openssl pkcs8 -topk8 -v2 aes-256-cbc')", ErrUnsupportedKey, info.Algorithm.Algorithm)
	}
	if len(passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	return decryptPBES2(info.Algorithm, info.EncryptedData, passphrase)
}

// decryptPBES2 decrypts data encrypted with the PBES2 algorithm alg (RFC
// 8018 §6.2): the part of decryptPKCS8 that PKCS#12's encrypted contents
// share. An empty passphrase is used as such (PKCS#12 files exported
// without one).
func decryptPBES2(alg pkix.AlgorithmIdentifier, data, passphrase []byte) ([]byte, error) {
	var p pbes2Params
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
		return nil, errors.New("certs: encrypted PKCS#8: malformed PBES2 parameters")
	}
	if !p.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("%w: key derivation %v (only PBKDF2 is read)", ErrUnsupportedKey, p.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(p.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, errors.New("certs: encrypted PKCS#8: malformed PBKDF2 parameters")
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > maxPBKDF2Iterations {
		return nil, fmt.Errorf("certs: encrypted PKCS#8: PBKDF2 iteration count %d out of range", kdf.IterationCount)
	}
	prf, err := prfHash(kdf.PRF.Algorithm)
	if err != nil {
		return nil, err
	}
	block, keyLen, err := cipherFor(p.EncryptionScheme.Algorithm)
	if err != nil {
		return nil, err
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(p.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, errors.New("certs: encrypted PKCS#8: malformed IV")
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, errors.New("certs: encrypted PKCS#8: key length does not fit the cipher")
	}
	key, err := pbkdf2.Key(prf, string(passphrase), kdf.Salt, kdf.IterationCount, keyLen)
	if err != nil {
		return nil, fmt.Errorf("certs: encrypted PKCS#8: %w", err)
	}
	c, err := block(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != c.BlockSize() {
		return nil, errors.New("certs: encrypted PKCS#8: IV length does not fit the cipher")
	}
	if len(data) == 0 || len(data)%c.BlockSize() != 0 {
		return nil, errors.New("certs: encrypted PKCS#8: ciphertext is not a whole number of blocks")
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(plain, data)
	plain, ok := unpad(plain, c.BlockSize())
	if !ok {
		return nil, ErrIncorrectPassphrase
	}
	return plain, nil
}

// unpad removes PKCS#7 padding (RFC 8018 §6.1.1 step 4) in constant time
// over the pad bytes.
func unpad(b []byte, bs int) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > bs || n > len(b) {
		return nil, false
	}
	good := 1
	for _, c := range b[len(b)-n:] {
		good &= subtle.ConstantTimeByteEq(c, byte(n))
	}
	return b[:len(b)-n], good == 1
}

func prfHash(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case len(oid) == 0, oid.Equal(oidHMACWithSHA1):
		return sha1.New, nil
	case oid.Equal(oidHMACWithSHA24):
		return sha256.New224, nil
	case oid.Equal(oidHMACWithSHA56):
		return sha256.New, nil
	case oid.Equal(oidHMACWithSHA84):
		return sha512.New384, nil
	case oid.Equal(oidHMACWithSHA12):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("%w: PBKDF2 PRF %v", ErrUnsupportedKey, oid)
}

func cipherFor(oid asn1.ObjectIdentifier) (func([]byte) (cipher.Block, error), int, error) {
	switch {
	case oid.Equal(oidAES128CBC):
		return aes.NewCipher, 16, nil
	case oid.Equal(oidAES192CBC):
		return aes.NewCipher, 24, nil
	case oid.Equal(oidAES256CBC):
		return aes.NewCipher, 32, nil
	case oid.Equal(oidDESEDE3CBC):
		return des.NewTripleDESCipher, 24, nil
	}
	return nil, 0, fmt.Errorf("%w: cipher %v (AES-CBC and DES-EDE3-CBC are read)", ErrUnsupportedKey, oid)
}

// PBKDF2Iterations is the iteration count EncryptPKCS8 uses (OpenSSL 3's
// default for PKCS#8 is 2048; we follow current guidance for stored CA keys).
const PBKDF2Iterations = 600_000

// EncryptPKCS8 wraps a PKCS#8 PrivateKeyInfo in an EncryptedPrivateKeyInfo
// with PBES2, PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018 §6.2, RFC 5958 §3),
// the form 'openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256'
// writes. iterations ≤ 0 means PBKDF2Iterations; a nil rnd means crypto/rand.
func EncryptPKCS8(rnd io.Reader, pkcs8DER, passphrase []byte, iterations int) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if iterations <= 0 {
		iterations = PBKDF2Iterations
	}
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rnd, iv); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(sha256.New, string(passphrase), salt, iterations, 32)
	if err != nil {
		return nil, err
	}
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	n := aes.BlockSize - len(pkcs8DER)%aes.BlockSize
	plain := make([]byte, len(pkcs8DER)+n)
	copy(plain, pkcs8DER)
	for i := len(pkcs8DER); i < len(plain); i++ {
		plain[i] = byte(n)
	}
	cipher.NewCBCEncrypter(c, iv).CryptBlocks(plain, plain)
	kdfParams, err := asn1.Marshal(pbkdf2Params{Salt: salt, IterationCount: iterations,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA56, Parameters: asn1.NullRawValue}})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		EncryptedData: plain,
	})
}
