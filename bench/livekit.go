package bench

import "fmt"

// liveKitConfig is the livekit-server configuration for a side-by-side run: the HTTP
// and single ICE UDP port on 127.0.0.1 as yizhan gets them, no ICE-TCP, no TURN, no
// STUN or external IP discovery, the loopback candidate (the clients are on
// loopback), the given key, and warnings only (LiveKit's --dev would log at debug
// level, which costs it CPU yizhan's runs do not pay). Everything else is LiveKit's
// default, as an operator would run it.
func liveKitConfig(httpPort, udpPort int, key, secret string) []byte {
	return fmt.Appendf(nil, `port: %d
bind_addresses:
  - 127.0.0.1
rtc:
  udp_port: %d
  tcp_port: 0
  use_external_ip: false
  node_ip: 127.0.0.1
  enable_loopback_candidate: true
  stun_servers: []
turn:
  enabled: false
keys:
  %s: %s
logging:
  level: warn
`, httpPort, udpPort, key, secret)
}
