package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommended minimum (m=19 MiB, t=2, p=1). A county server
// logs in a few hundred staff a day; 64 MiB per attempt (RFC 9106's second option) kept
// the heap large for nothing. Hashes carry their parameters, so old ones still verify and
// these can be raised later.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an encoded argon2id hash:
// $argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<key b64>.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("empty password: %w", ErrInvalid)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the encoded hash, comparing in constant
// time. The parameters come from the hash, so they can be raised later.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || t == 0 || p == 0 || mem > 1<<20 || t > 20 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// DummyHash is a valid hash of a random, forgotten password: logins of unknown users are
// checked against it so that they cost what a known user's do (no username oracle by
// timing), without hashing anything at start.
const DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$3N4ZLGOKAsnN1NkBDbwV2A$KS8i4bvVQtsn6Wo8u1UXBg0xDzGNE1qQXCbTchmzg0k"
