// Package queue owns the durable log between ingest and processing: a NATS
// JetStream stream, embedded in the process by default. Ingest appends
// through an Appender, which gathers concurrent requests into one publish and
// one disk sync; processing reads with Consume. It knows nothing of what a
// message holds.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the stream, its subject and the processor's durable consumer.
const (
	StreamName   = "LOUPE_BATCHES"
	Subject      = "loupe.batches"
	ConsumerName = "process"
)

// MaxMessage is the largest message the embedded server accepts; an
// Appender never builds a larger one.
const MaxMessage = 48 << 20

// Log is a connection to the durable log, and the embedded server when there
// is one.
type Log struct {
	srv    *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
}

// OpenEmbedded starts a JetStream server inside this process, keeping its
// files under dir, and connects to it without a network listener. Every
// write is synced to disk before it is acknowledged: an acknowledged append
// survives kill -9 and a power cut.
func OpenEmbedded(ctx context.Context, dir string, logger *slog.Logger) (*Log, error) {
	opts := &server.Options{
		ServerName:         "loupe-embedded",
		DontListen:         true,
		JetStream:          true,
		StoreDir:           dir,
		SyncAlways:         true,
		MaxPayload:         MaxMessage,
		JetStreamMaxMemory: 64 << 20,
		NoSigs:             true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start embedded log: %w", err)
	}
	srv.SetLoggerV2(natsLogger{logger}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("start embedded log: not ready after 30s")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name("loupe"))
	if err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("connect embedded log: %w", err)
	}
	l, err := open(ctx, nc)
	if err != nil {
		nc.Close()
		srv.Shutdown()
		return nil, err
	}
	l.srv = srv
	return l, nil
}

func open(ctx context.Context, nc *nats.Conn) (*Log, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open jetstream: %w", err)
	}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      StreamName,
		Subjects:  []string{Subject},
		Storage:   jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy,
		// Processing deletes what it has written; this only stops a log that
		// nobody reads from filling the disk in silence. It is far beyond any
		// outage an operator would leave unattended.
		MaxAge: 30 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	return &Log{nc: nc, js: js, stream: stream}, nil
}

// Close drains the connection and stops the embedded server.
func (l *Log) Close() {
	l.nc.Close()
	if l.srv != nil {
		l.srv.Shutdown()
		l.srv.WaitForShutdown()
	}
}

// Check reports whether the log answers, for /readyz.
func (l *Log) Check(ctx context.Context) error {
	if _, err := l.stream.Info(ctx); err != nil {
		return fmt.Errorf("log info: %w", err)
	}
	return nil
}

// Pending returns how many messages wait for the processor.
func (l *Log) Pending(ctx context.Context) (uint64, error) {
	c, err := l.stream.Consumer(ctx, ConsumerName)
	if err != nil {
		return 0, fmt.Errorf("pending: %w", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("pending: %w", err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// publish appends one message and waits until the log has it durably.
func (l *Log) publish(ctx context.Context, data []byte) error {
	_, err := l.js.Publish(ctx, Subject, data)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// natsLogger sends the embedded server's log lines to slog.
type natsLogger struct{ l *slog.Logger }

func (n natsLogger) Noticef(format string, v ...any) {
	n.l.Debug("log server", "detail", fmt.Sprintf(format, v...))
}
func (n natsLogger) Warnf(format string, v ...any) {
	text := fmt.Sprintf(format, v...)
	// The large maximum payload is deliberate (see MaxMessage): gathered
	// appends stay under 8 MB, only a single large recording batch goes over.
	if strings.HasPrefix(text, "Maximum payloads over") {
		n.l.Debug("log server", "detail", text)
		return
	}
	n.l.Warn("log server", "detail", text)
}
func (n natsLogger) Fatalf(format string, v ...any) {
	n.l.Error("log server", "detail", fmt.Sprintf(format, v...))
}
func (n natsLogger) Errorf(format string, v ...any) {
	n.l.Error("log server", "detail", fmt.Sprintf(format, v...))
}
func (n natsLogger) Debugf(format string, v ...any) {
	n.l.Debug("log server", "detail", fmt.Sprintf(format, v...))
}
func (n natsLogger) Tracef(format string, v ...any) {}
