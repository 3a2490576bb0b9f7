package main

import (
	"net"

	"yizhan/signaling"
)

// Deployment hooks (issue 6): TLS, TURN and metrics plug in here.

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
