package gateway

import (
	"log"
	"log/slog"
)

// slogErrorLog sends net/http's own messages (TLS handshakes, panics in
// handlers) to the gateway's logger, as JSON like the rest.
func slogErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelWarn)
}
