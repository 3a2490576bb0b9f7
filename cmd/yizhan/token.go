package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"yizhan/signaling"
)

// cmdToken prints a LiveKit access token, for any LiveKit client.
func cmdToken(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("api-key", envOr("YIZHAN_API_KEY", ""), "API key (env YIZHAN_API_KEY)")
	secret := fs.String("api-secret", envOr("YIZHAN_API_SECRET", ""), "API secret (env YIZHAN_API_SECRET)")
	room := fs.String("room", "", "room to join")
	identity := fs.String("identity", "", "participant identity")
	name := fs.String("name", "", "display name")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	publish := fs.Bool("publish", true, "may publish media")
	subscribe := fs.Bool("subscribe", true, "may subscribe to media")
	data := fs.Bool("data", true, "may publish data packets")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" || *secret == "" || *room == "" || *identity == "" {
		return fmt.Errorf("--api-key, --api-secret, --room and --identity are required")
	}
	tok, err := signaling.MintToken(*key, *secret, signaling.TokenSpec{
		Room: *room, Identity: *identity, Name: *name, TTL: *ttl,
		CanPublish: *publish, CanSubscribe: *subscribe, CanPublishData: *data,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
