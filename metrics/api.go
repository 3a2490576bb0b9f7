package metrics

import (
	"net/http"
	"strconv"
	"time"
)

// InstrumentAPI counts the requests h serves by route and status, and times them. The
// route is the ServeMux pattern that matched (r.Pattern, e.g. "GET /api/cases/{id}"),
// never the raw path: paths carry ids, and one label value per case would swamp
// Prometheus. ServeMux sets Pattern on the request it is handed, so the innermost mux's
// pattern is what this sees after h returns; requests no pattern matched count as
// "unmatched".
func (r *Registry) InstrumentAPI(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, req)
		route := req.Pattern
		if route == "" || route == "/api/" {
			route = "unmatched"
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		r.apiRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		r.apiDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code. It passes Flush through (server-sent events)
// and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
