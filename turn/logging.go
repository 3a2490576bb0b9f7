package turn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// pionLogs adapts Pion's logging to slog. Only Warn and Error pass; Pion TURN logs
// every refused or malformed request at Debug/Info, which an open port receives plenty of.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

// quietLogger is for the credential check: a bad or expired username is the client's
// problem, and anyone can send one, so it goes to Debug.
func (f pionLogs) quietLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope), quiet: true}
}

type pionLogger struct {
	log   *slog.Logger
	quiet bool // everything at Debug
}

func (pionLogger) Trace(string)          {}
func (pionLogger) Tracef(string, ...any) {}
func (pionLogger) Debug(string)          {}
func (pionLogger) Debugf(string, ...any) {}
func (pionLogger) Info(string)           {}
func (pionLogger) Infof(string, ...any)  {}

func (l pionLogger) Warn(msg string) { l.emit(msg) }
func (l pionLogger) Warnf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.emit(fmt.Sprintf(format, args...))
	}
}

// Error is demoted to Warn: Pion TURN reports what clients do wrong as errors.
func (l pionLogger) Error(msg string) { l.emit(msg) }
func (l pionLogger) Errorf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.emit(fmt.Sprintf(format, args...))
	}
}

// emit logs at Warn, except what strangers cause at will on a public port (failed TLS
// handshakes from scanners, bad credentials), which goes to Debug.
func (l pionLogger) emit(msg string) {
	if l.quiet || strings.Contains(msg, "TLS handshake failed") {
		l.log.Debug(msg)
		return
	}
	l.log.Warn(msg)
}
