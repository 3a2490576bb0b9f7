package media

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// pionLogs adapts Pion's logging.LoggerFactory to slog, so that ICE, DTLS and
// SCTP problems land in the same structured log as ours. Only Warn and Error
// pass: Pion's Debug/Trace output is per packet and would drown everything.
type pionLogs struct {
	log *slog.Logger
}

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

type pionLogger struct {
	log *slog.Logger
}

func (l pionLogger) Trace(string)          {}
func (l pionLogger) Tracef(string, ...any) {}
func (l pionLogger) Debug(string)          {}
func (l pionLogger) Debugf(string, ...any) {}
func (l pionLogger) Info(string)           {}
func (l pionLogger) Infof(string, ...any)  {}

func (l pionLogger) Warn(msg string) { l.warn(msg) }

// Warnf formats only when the level is enabled: Pion calls it on hot-ish paths.
func (l pionLogger) Warnf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelWarn) {
		l.warn(fmt.Sprintf(format, args...))
	}
}

// warn demotes the warnings Pion logs on every ordinary teardown (reads on
// closed sockets and streams) and before the first candidate pair: a leave
// would otherwise print a screen of warnings.
func (l pionLogger) warn(msg string) {
	if strings.Contains(msg, "closed") || strings.HasSuffix(msg, "EOF") || strings.Contains(msg, "without candidate pairs") {
		l.log.Debug(msg)
		return
	}
	l.log.Warn(msg)
}

func (l pionLogger) Error(msg string) { l.log.Error(msg) }

func (l pionLogger) Errorf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelError) {
		l.log.Error(fmt.Sprintf(format, args...))
	}
}
