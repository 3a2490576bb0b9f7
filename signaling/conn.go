package signaling

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const (
	// maxFrameBytes bounds one signal frame. SDP for a few dozen tracks is well under this;
	// anything larger is an attack or a bug, and gorilla closes the socket with 1009.
	maxFrameBytes = 256 << 10
	writeTimeout  = 10 * time.Second
	// sendQueueLen bounds what may wait for one slow client. A full queue closes that
	// client's socket (it reconnects) instead of blocking the room.
	sendQueueLen = 512
	// wsPingEvery keeps NATs open and finds dead TCP connections; the Go SDK never pings
	// but answers websocket pings, as browsers do.
	wsPingEvery = 20 * time.Second
	// readIdle ends a connection that sent nothing, not even a pong, for this long.
	readIdle = 2*wsPingEvery + 5*time.Second
	// drainGrace is how long a connection whose write failed stays open for the reader to
	// take what the client sent before it went (see writeFailed).
	drainGrace = time.Second
)

var errSendQueueFull = errors.New("send queue full")

// conn is one signal websocket. readLoop belongs to the HTTP handler's goroutine;
// writeLoop is the only goroutine that writes to ws (gorilla allows one writer).
type conn struct {
	ws  *websocket.Conn
	log *slog.Logger

	sent      *signalCounter // the server's count of queued frames; set once before use, may be nil
	send      chan []byte    // frames for writeLoop; closed never, see done
	done      chan struct{}  // closed by close()
	closeOnce sync.Once
	closeErr  error         // set once before done is closed
	readDone  chan struct{} // closed by readerDone when the reader returned
	readOnce  sync.Once
}

func newConn(ws *websocket.Conn, log *slog.Logger) *conn {
	ws.SetReadLimit(maxFrameBytes)
	_ = ws.SetReadDeadline(time.Now().Add(readIdle))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(readIdle)) })
	c := &conn{ws: ws, log: log, send: make(chan []byte, sendQueueLen), done: make(chan struct{}),
		readDone: make(chan struct{})}
	go c.writeLoop() // ends when done is closed
	return c
}

// Send queues a message; it never blocks. A full queue closes the connection.
func (c *conn) Send(msg *livekit.SignalResponse) {
	b, err := proto.Marshal(msg)
	if err != nil {
		c.log.Error("marshal signal response", "err", err)
		return
	}
	if c.sendFrame(b) && c.sent != nil {
		c.sent.count(msg, 1)
	}
}

// sendFrame queues an already marshalled message (shared by a broadcast: read-only).
// It reports whether the frame was queued.
func (c *conn) sendFrame(b []byte) bool {
	select {
	case <-c.done:
	case c.send <- b:
		return true
	default:
		c.close(errSendQueueFull)
	}
	return false
}

// Read returns the next request. Binary frames are protobuf; text frames are protojson.
func (c *conn) Read() (*livekit.SignalRequest, error) {
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(readIdle))
		req := &livekit.SignalRequest{}
		switch mt {
		case websocket.BinaryMessage:
			err = proto.Unmarshal(data, req)
		case websocket.TextMessage:
			err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, req)
		default:
			continue
		}
		if err != nil {
			return nil, &malformedError{err: err, size: len(data)}
		}
		return req, nil
	}
}

// malformedError is a frame that did not decode. The caller logs it and goes on: one bad
// frame is not worth dropping a participant's call.
type malformedError struct {
	err  error
	size int
}

func (e *malformedError) Error() string {
	return fmt.Sprintf("malformed signal frame (%d bytes): %v", e.size, e.err)
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			c.flushAndClose()
			return
		case b := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
				c.writeFailed(fmt.Errorf("write: %w", err))
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.writeFailed(fmt.Errorf("ping: %w", err))
				return
			}
		}
	}
}

// writeFailed ends the connection after a write failed: usually the client closed its
// socket. Frames it sent before that may still wait unread, its Leave above all, so the
// socket stays open until the reader has taken them (it ends on the closed socket) or
// drainGrace passed. Closing at once threw a pending Leave away, and the participant
// then waited resumeWindow for a client that had left.
func (c *conn) writeFailed(err error) {
	c.close(err)
	c.log.Debug("signal write failed; reading what the client sent before closing", "err", err)
	t := time.NewTimer(drainGrace)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
	}
	_ = c.ws.Close()
}

// readerDone tells the connection its reader returned. Idempotent.
func (c *conn) readerDone() { c.readOnce.Do(func() { close(c.readDone) }) }

// flushAndClose writes what is queued (a Leave usually is), then a close frame.
func (c *conn) flushAndClose() {
	deadline := time.Now().Add(2 * time.Second)
	for {
		select {
		case b := <-c.send:
			_ = c.ws.SetWriteDeadline(deadline)
			if c.ws.WriteMessage(websocket.BinaryMessage, b) != nil {
				_ = c.ws.Close()
				return
			}
			continue
		default:
		}
		break
	}
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
	_ = c.ws.Close()
}

// close stops the connection after what is queued has been written. Idempotent.
func (c *conn) close(reason error) {
	c.closeOnce.Do(func() {
		c.closeErr = reason
		close(c.done)
	})
}

// closeCause is why the connection was closed, or nil while it is open.
func (c *conn) closeCause() error {
	select {
	case <-c.done:
		return c.closeErr
	default:
		return nil
	}
}

// Done is closed once the connection is closing.
func (c *conn) Done() <-chan struct{} { return c.done }
