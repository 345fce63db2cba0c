package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// clientError is a request the client got wrong; it is answered with its
// status and message. Any other error is a 500 with a request id.
type clientError struct {
	status int
	msg    string
}

func (e *clientError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &clientError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func notFound(what string) error {
	return &clientError{status: http.StatusNotFound, msg: what + " not found"}
}

var errUnauthorized = &clientError{status: http.StatusUnauthorized,
	msg: "missing or unknown API token: send Authorization: Bearer <token>, " +
		"or sign in to the dashboard"}

// handlerFunc is an HTTP handler that returns its error for one place to
// render and log.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h: a clientError becomes a one-line JSON body with its
// status; anything else is logged once and answered 500 with a request id.
func handle(logger *slog.Logger, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var ce *clientError
		if errors.As(err, &ce) {
			writeError(w, ce.status, map[string]string{"error": ce.msg})
			return
		}
		id := requestID()
		logger.Error("request failed", "request_id", id, "method", r.Method,
			"path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError,
			map[string]string{"error": "internal error", "request_id": id})
	})
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeCompactJSON is writeJSON without the indenting, for large answers.
func writeCompactJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers an error as one line of JSON, easy to grep in logs.
func writeError(w http.ResponseWriter, status int, body map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
