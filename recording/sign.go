package recording

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// The server's signing keys live in the data folder as PKCS#8 PEM files (mode 0600):
// Ed25519 (RFC 8032) for everyone, SM2 (GB/T 32918, with SM3) because government buyers
// expect the national algorithms. manifest.sig is the raw 64-byte Ed25519 signature of
// manifest.json's bytes, so `openssl pkeyutl -verify -pubin -inkey key.pem -rawin
// -in manifest.json -sigfile manifest.sig` checks it without our software;
// manifest.sm2.sig is the DER SM2 signature with the default ID "1234567812345678".
const (
	ed25519KeyFile = "signing-ed25519.pem"
	sm2KeyFile     = "signing-sm2.pem"
)

// Signer signs manifests with the server's keys.
type Signer struct {
	ed  ed25519.PrivateKey
	sm2 *sm2.PrivateKey // nil if absent: the SM2 signature is then omitted
}

// PublicKey is the public half of a Signer, as published and as embedded in manifests.
type PublicKey struct {
	Ed25519 ed25519.PublicKey
	SM2     *ecdsa.PublicKey // may be nil
}

// LoadOrCreateKey loads the signing keys from dir, creating them (0600) on first start.
func LoadOrCreateKey(dir string) (*Signer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key folder: %w", err)
	}
	s := &Signer{}
	key, err := loadOrCreate(filepath.Join(dir, ed25519KeyFile), func() (any, []byte, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		return k, der, err
	}, func(der []byte) (any, error) { return x509.ParsePKCS8PrivateKey(der) })
	if err != nil {
		return nil, fmt.Errorf("ed25519 key: %w", err)
	}
	var ok bool
	if s.ed, ok = key.(ed25519.PrivateKey); !ok {
		return nil, fmt.Errorf("%s is not an Ed25519 key", ed25519KeyFile)
	}
	key, err = loadOrCreate(filepath.Join(dir, sm2KeyFile), func() (any, []byte, error) {
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		der, err := smx509.MarshalPKCS8PrivateKey(k)
		return k, der, err
	}, func(der []byte) (any, error) { return smx509.ParsePKCS8PrivateKey(der) })
	if err != nil {
		return nil, fmt.Errorf("sm2 key: %w", err)
	}
	if s.sm2, ok = key.(*sm2.PrivateKey); !ok {
		return nil, fmt.Errorf("%s is not an SM2 key", sm2KeyFile)
	}
	return s, nil
}

// LoadPublicKey reads the public keys of the signing keys in dir without creating any:
// for `yizhan verify` on the server, to pin the signatures to the server's own key.
func LoadPublicKey(dir string) (*PublicKey, error) {
	for _, f := range []string{ed25519KeyFile, sm2KeyFile} {
		if !exists(filepath.Join(dir, f)) {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, f), os.ErrNotExist)
		}
	}
	s, err := LoadOrCreateKey(dir)
	if err != nil {
		return nil, err
	}
	p := s.Public()
	return &p, nil
}

func loadOrCreate(path string, gen func() (any, []byte, error), parse func([]byte) (any, error)) (any, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%s: no PRIVATE KEY block", path)
		}
		return parse(blk.Bytes)
	}
	if !os.IsNotExist(err) {
		return nil, err
	}
	k, der, err := gen()
	if err != nil {
		return nil, err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	// O_EXCL: two servers starting at once must not overwrite each other's key.
	if err := writeFileAtomic(path, data, 0o600, true); err != nil {
		return nil, err
	}
	return k, nil
}

// Public returns the public keys.
func (s *Signer) Public() PublicKey {
	p := PublicKey{Ed25519: s.ed.Public().(ed25519.PublicKey)}
	if s.sm2 != nil {
		p.SM2 = &s.sm2.PublicKey
	}
	return p
}

// sm2UID is the default signer ID of GB/T 32918 / GM/T 0009.
var sm2UID = []byte("1234567812345678")

func (s *Signer) sign(msg []byte) (ed, sm []byte, err error) {
	ed = ed25519.Sign(s.ed, msg)
	if s.sm2 != nil {
		sm, err = s.sm2.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, sm2UID))
		if err != nil {
			return nil, nil, fmt.Errorf("sm2 sign: %w", err)
		}
	}
	return ed, sm, nil
}

// KeyID is a short fingerprint: the first 16 hex digits of SHA-256 of the Ed25519 key.
func (p PublicKey) KeyID() string {
	h := sha256.Sum256(p.Ed25519)
	return hex.EncodeToString(h[:8])
}

// Ed25519Base64 is the PKIX DER Ed25519 public key in base64, as written in manifests.
func (p PublicKey) Ed25519Base64() string {
	der, _ := x509.MarshalPKIXPublicKey(p.Ed25519)
	return base64.StdEncoding.EncodeToString(der)
}

// SM2Base64 is the PKIX DER SM2 public key in base64 ("" if none).
func (p PublicKey) SM2Base64() string {
	if p.SM2 == nil {
		return ""
	}
	der, _ := smx509.MarshalPKIXPublicKey(p.SM2)
	return base64.StdEncoding.EncodeToString(der)
}

// PEM returns the public keys as PEM "PUBLIC KEY" blocks (Ed25519 first, then SM2;
// no headers, so OpenSSL reads the first block as is), for
// /api/signing-key and `yizhan signing-key`.
func (p PublicKey) PEM() []byte {
	var b bytes.Buffer
	der, _ := x509.MarshalPKIXPublicKey(p.Ed25519)
	pem.Encode(&b, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if p.SM2 != nil {
		der, _ := smx509.MarshalPKIXPublicKey(p.SM2)
		pem.Encode(&b, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	return b.Bytes()
}

// ParsePublicKeyPEM reads what PEM wrote (or a bare Ed25519 PUBLIC KEY block).
func ParsePublicKeyPEM(b []byte) (PublicKey, error) {
	var p PublicKey
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		k, err := smx509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return p, fmt.Errorf("parse public key: %w", err)
		}
		switch k := k.(type) {
		case ed25519.PublicKey:
			p.Ed25519 = k
		case *ecdsa.PublicKey:
			if !sm2.IsSM2PublicKey(k) {
				return p, errors.New("an EC public key that is not SM2")
			}
			p.SM2 = k
		}
	}
	if p.Ed25519 == nil {
		return p, errors.New("no Ed25519 public key found")
	}
	return p, nil
}

// parsePublicKeys decodes the base64 keys embedded in a manifest.
func parsePublicKeys(edB64, sm2B64 string) (PublicKey, error) {
	var p PublicKey
	der, err := base64.StdEncoding.DecodeString(edB64)
	if err != nil {
		return p, fmt.Errorf("ed25519 key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return p, fmt.Errorf("ed25519 key: %w", err)
	}
	var ok bool
	if p.Ed25519, ok = k.(ed25519.PublicKey); !ok {
		return p, errors.New("ed25519 key: wrong type")
	}
	if sm2B64 != "" {
		der, err := base64.StdEncoding.DecodeString(sm2B64)
		if err != nil {
			return p, fmt.Errorf("sm2 key: %w", err)
		}
		k, err := smx509.ParsePKIXPublicKey(der)
		if err != nil {
			return p, fmt.Errorf("sm2 key: %w", err)
		}
		if p.SM2, ok = k.(*ecdsa.PublicKey); !ok || !sm2.IsSM2PublicKey(p.SM2) {
			return p, errors.New("sm2 key: wrong type")
		}
	}
	return p, nil
}

// writeFileAtomic writes a file under a temporary name, fsyncs it and renames it into
// place, so a reader (or a crash) sees the whole file or none. With excl it refuses to
// replace an existing file.
func writeFileAtomic(path string, data []byte, perm os.FileMode, excl bool) error {
	if excl && exists(path) {
		return fmt.Errorf("%s: %w", path, os.ErrExist)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if excl {
		// link fails if path exists, unlike rename: no window for a race.
		err = os.Link(tmp, path)
		os.Remove(tmp)
	} else {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}
