package turn

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs adapts Pion's logging to slog. Only Warn and Error pass; Pion TURN logs
// every refused or malformed request at Debug/Info, which an open port receives plenty of.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (pionLogger) Trace(string)          {}
func (pionLogger) Tracef(string, ...any) {}
func (pionLogger) Debug(string)          {}
func (pionLogger) Debugf(string, ...any) {}
func (pionLogger) Info(string)           {}
func (pionLogger) Infof(string, ...any)  {}

func (l pionLogger) Warn(msg string) { l.log.Warn(msg) }
func (l pionLogger) Warnf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelWarn) {
		l.log.Warn(fmt.Sprintf(format, args...))
	}
}

// Error is demoted to Warn: Pion TURN reports a client's bad credentials or a failed TLS
// handshake as an error, which is the client's problem, not the server's.
func (l pionLogger) Error(msg string) { l.log.Warn(msg) }
func (l pionLogger) Errorf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelWarn) {
		l.log.Warn(fmt.Sprintf(format, args...))
	}
}
