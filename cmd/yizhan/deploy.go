package main

import (
	"net"
	"net/http"

	"yizhan/signaling"
)

// Deployment hooks (issue 6): TLS, TURN and metrics plug in here.

// deployment is the state the deployment hooks share: the certificate reloader, the
// embedded TURN server and the metrics registry. Built by the hooks below.
type deployment struct{}

// listen opens the HTTP listener (TLS when configured).
func (a *app) listen() (net.Listener, error) {
	return net.Listen("tcp", a.cfg.HTTP)
}

// iceServers returns the ICE servers each participant is told about (TURN credentials).
func (a *app) iceServers() func(identity string) []signaling.ICEServer {
	return nil
}

// mountMetrics serves /metrics.
func (a *app) mountMetrics() {}

// instrumentAPI counts API requests by route (the matched ServeMux pattern) and status.
func (a *app) instrumentAPI(h http.Handler) http.Handler { return h }

// setRecordingStats tells the metrics how many recordings run now and how many failed
// since start.
func (a *app) setRecordingStats(func() (active, failed int)) {}

// scheme is "https" when the HTTP port serves TLS.
func (a *app) scheme() string {
	if a.cfg.TLSCert != "" {
		return "https"
	}
	return "http"
}

// wsScheme is the websocket scheme matching how r arrived.
func wsScheme(r *http.Request) string {
	if r.TLS != nil {
		return "wss"
	}
	return "ws"
}
