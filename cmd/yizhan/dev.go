package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"yizhan/signaling"
)

// devToken mints a token for the room page (only with --dev): the quickest way to try
// two browsers in one room.
func (a *app) devToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	room, identity := q.Get("room"), q.Get("identity")
	if room == "" || identity == "" {
		http.Error(w, "room and identity are required", http.StatusBadRequest)
		return
	}
	name := q.Get("name")
	if name == "" {
		name = identity
	}
	tok, err := a.sig.MintToken(signaling.TokenSpec{
		Room: room, Identity: identity, Name: name, TTL: 6 * time.Hour,
		CanPublish: true, CanSubscribe: true, CanPublishData: true,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"url": wsURL(a.publicURL), "token": tok})
}

func (a *app) announceDev(w io.Writer, base string) {
	if a.demo != nil {
		a.demo.Print(w, base)
	}
	fmt.Fprintf(w, "\nstaff console (log in with a demo account above):  %s/console\n", base)
	fmt.Fprintf(w, "a plain test room for two browsers:                %s/room?room=demo&identity=alice\n", base)
}
