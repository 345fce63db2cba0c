package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Message is one log message handed to the processor.
type Message struct {
	Data []byte
	// Appended is when the log took the message, for the processing-lag metric.
	Appended time.Time
}

// Consume reads messages in groups of up to max and hands each group to
// handle. A group is acknowledged, and so removed from the log, only after
// handle returns nil; on an error the group is delivered again after a pause.
// handle must therefore be idempotent. Consume returns when ctx ends.
func (l *Log) Consume(ctx context.Context, max int,
	handle func(context.Context, []Message) error) error {
	cons, err := l.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:   ConsumerName,
		AckPolicy: jetstream.AckExplicitPolicy,
		// A message handed out but not acknowledged, as when the process
		// died mid-write, comes back after this long. A group is written in
		// well under a second; a slower one is delivered twice, which the
		// processor ignores.
		AckWait:       30 * time.Second,
		MaxAckPending: 4 * max,
	})
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(max, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("fetch: %w", err)
		}
		var msgs []jetstream.Msg
		var group []Message
		for m := range batch.Messages() {
			msgs = append(msgs, m)
			var appended time.Time
			if meta, err := m.Metadata(); err == nil {
				appended = meta.Timestamp
			}
			group = append(group, Message{Data: m.Data(), Appended: appended})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) &&
			!errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("fetch: %w", err)
		}
		if len(group) == 0 {
			continue
		}
		if err := handle(ctx, group); err != nil {
			for _, m := range msgs {
				_ = m.NakWithDelay(time.Second)
			}
			continue
		}
		for _, m := range msgs {
			// A lost ack means a redelivery, which the processor ignores.
			_ = m.Ack()
		}
	}
	return nil
}
