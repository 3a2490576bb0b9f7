package recording

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Anyone can check manifest.sig without our software: OpenSSL verifies the raw Ed25519
// signature against the first PEM block of the published key.
func TestOpenSSLVerifiesManifest(t *testing.T) {
	withTimeout(t, 60*time.Second)
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	data := t.TempDir()
	key, err := LoadOrCreateKey(data)
	must(t, err)
	s, _ := recordSession(t, data, key)
	pem := key.Public().PEM()
	first := pem[:bytes.Index(pem, []byte("-----END PUBLIC KEY-----"))+len("-----END PUBLIC KEY-----\n")]
	kp := filepath.Join(t.TempDir(), "key.pem")
	must(t, os.WriteFile(kp, first, 0o644))
	out, err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", kp, "-rawin",
		"-in", filepath.Join(s.Dir(), manifestName), "-sigfile", filepath.Join(s.Dir(), sigName)).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Signature Verified Successfully")) {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
}
