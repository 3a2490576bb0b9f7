package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST credential scheme is defined over HMAC-SHA1
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"time"
)

// Credentials returns time-limited TURN credentials for identity, valid until now+ttl,
// in the scheme of the TURN REST API (draft-uberti-behave-turn-rest-00 §2.2), which
// coturn's use-auth-secret and Pion's LongTermTURNRESTAuthHandler also check:
// username = "<unix expiry>:<identity>", password = base64(HMAC-SHA1(secret, username)).
// The server needs no state per participant: it recomputes the password from the username.
func Credentials(secret, identity string, ttl time.Duration, now time.Time) (username, password string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10) + ":" + identity
	mac := hmac.New(sha1.New, []byte(secret))
	_, _ = mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// DeriveSecret derives the embedded TURN server's credential key from the API secret, so
// that the API secret itself (which signs access tokens) is never the HMAC key of a
// credential handed to browsers.
func DeriveSecret(apiSecret string) string {
	mac := hmac.New(sha256.New, []byte(apiSecret))
	_, _ = mac.Write([]byte("yizhan turn credentials v1"))
	return hex.EncodeToString(mac.Sum(nil))
}
