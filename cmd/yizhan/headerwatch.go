package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
)

// Counting the header bounds (issue 12): net/http enforces MaxHeaderBytes (it answers
// 431 itself) and ReadHeaderTimeout (it closes the connection without a word), so no
// handler of ours sees either. headerWatch wraps each accepted connection (under TLS,
// so it works for both) and watches the stretch between two requests: from a new
// connection, or the end of the previous response, to the moment a handler starts. A
// connection that closes in that stretch, after a read there timed out, was cut by
// ReadHeaderTimeout (a keep-alive connection that sent nothing at all since its last
// answer timed out on IdleTimeout instead: normal, not counted); one that had read more
// than MaxHeaderBytes there was refused by MaxHeaderBytes.

type headerListener struct {
	net.Listener
	maxHeaderBytes int
	hits           *guardCounters
}

func newHeaderListener(ln net.Listener, maxHeaderBytes int, hits *guardCounters) *headerListener {
	return &headerListener{Listener: ln, maxHeaderBytes: maxHeaderBytes, hits: hits}
}

func (l *headerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	w := &watchedConn{Conn: c, l: l}
	w.between.Store(true)
	return w, nil
}

// watchedConn is one accepted connection. Read runs on net/http's connection goroutine
// (and its background reader during a handler), the hooks on the serving goroutine:
// every field is atomic.
type watchedConn struct {
	net.Conn
	l *headerListener

	between  atomic.Bool  // between requests: no handler has started on what is being read
	answered atomic.Bool  // a handler ran on this connection before (so a silent wait is IdleTimeout's)
	read     atomic.Int64 // bytes read since the stretch began
	timedOut atomic.Bool  // a read in the stretch timed out
	gone     atomic.Bool  // hijacked or closed: counted once, at most
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.between.Load() {
		c.read.Add(int64(n))
		var ne net.Error
		if err != nil && errors.As(err, &ne) && ne.Timeout() {
			c.timedOut.Store(true)
		}
	}
	return n, err
}

// handlerStarts: the request's line and headers were accepted.
func (c *watchedConn) handlerStarts() {
	c.between.Store(false)
	c.answered.Store(true)
}

// connState is the http.Server's ConnState hook.
func (c *watchedConn) connState(s http.ConnState) {
	switch s {
	case http.StateIdle: // the answer is out; the next request's stretch begins
		c.read.Store(0)
		c.timedOut.Store(false)
		c.between.Store(true)
	case http.StateHijacked:
		c.between.Store(false)
		c.gone.Store(true)
	case http.StateClosed:
		if !c.between.Load() || c.gone.Swap(true) {
			return
		}
		read := c.read.Load()
		switch {
		case c.timedOut.Load() && (read > 0 || !c.answered.Load()):
			c.l.hits.headersSlow.Add(1)
		case read > int64(c.l.maxHeaderBytes):
			c.l.hits.headersLarge.Add(1)
		}
	}
}

// watched finds our connection under what net/http serves (a TLS connection wraps it).
func watched(c net.Conn) *watchedConn {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	w, _ := c.(*watchedConn)
	return w
}

type watchedConnKey struct{}

// watchHeaders wires the hooks into srv: each request's context carries its connection,
// and the handler tells it when a request got through.
func watchHeaders(srv *http.Server) {
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if w := watched(c); w != nil {
			return context.WithValue(ctx, watchedConnKey{}, w)
		}
		return ctx
	}
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if w := watched(c); w != nil {
			w.connState(s)
		}
	}
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w, ok := r.Context().Value(watchedConnKey{}).(*watchedConn); ok {
			w.handlerStarts()
		}
		next.ServeHTTP(rw, r)
	})
}
