package main

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/debug"
	"strings"
)

// bearer serves h only to requests with "Authorization: Bearer <token>".
func bearer(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need a bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// mountPprof serves net/http/pprof at /debug/pprof/ (on the loopback metrics listener
// only: profiles show the program's insides and cost CPU).
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("POST /debug/freeosmemory", freeOSMemory)
}

// freeOSMemory runs full collections and returns freed pages to the system
// (runtime/debug.FreeOSMemory), so that a reading taken right after (heap, RSS in
// /metrics) is the live memory, not what the scavenger has not got to yet. Two
// collections first: a sync.Pool keeps what it holds until the second one. `make soak`
// calls it before each reading; on the loopback metrics listener only, like pprof.
func freeOSMemory(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	w.WriteHeader(http.StatusNoContent)
}

func isLoopbackListener(ln net.Listener) bool {
	a, ok := ln.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// wsURL is the websocket base for a public URL: http -> ws, https -> wss.
func wsURL(public string) string {
	if rest, ok := strings.CutPrefix(public, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(public, "http://")
}
