package main

import (
	"yizhan/web"
)

// mountParts wires the parts above signaling: mediation, recording and the web app.
// The web app is mounted last, at "/", so that /rtc, /api and /dev win.
func (a *app) mountParts() error {
	a.mux.Handle("/", web.Handler())
	return nil
}
