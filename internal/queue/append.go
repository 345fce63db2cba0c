package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("log appender closed")

// Appender gathers the appends of concurrent requests into one message: while
// one publish waits for its disk sync, the requests that arrive queue up, and
// the next publish carries them all. Under light load a request waits for one
// sync; under heavy load each sync serves many requests.
type Appender struct {
	log      *Log
	maxBytes int
	requests chan *appendRequest
	done     chan struct{}
	wg       sync.WaitGroup
	observe  func(records int, bytes int, took time.Duration, err error)
}

type appendRequest struct {
	data   []byte
	result chan error
}

// NewAppender starts an appender with the given number of flushers; each
// publishes one gathered message at a time. observe, if not nil, is called
// after every publish (for metrics).
func NewAppender(log *Log, flushers int, observe func(records, bytes int,
	took time.Duration, err error)) *Appender {
	a := &Appender{
		log:      log,
		maxBytes: 8 << 20,
		requests: make(chan *appendRequest, 4096),
		done:     make(chan struct{}),
		observe:  observe,
	}
	for range max(flushers, 1) {
		a.wg.Add(1)
		go a.flush()
	}
	return a
}

// Append adds data (one or more encoded records) to the log and returns once
// it is durable, or with the error that stopped it.
func (a *Appender) Append(ctx context.Context, data []byte) error {
	if len(data) > MaxMessage {
		return fmt.Errorf("append: %d bytes is over the log's %d", len(data), MaxMessage)
	}
	req := &appendRequest{data: data, result: make(chan error, 1)}
	select {
	case a.requests <- req:
	case <-a.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.result:
		return err
	case <-ctx.Done():
		// The append may still complete; the processor is idempotent, so a
		// retried request does no harm.
		return ctx.Err()
	}
}

// Close stops taking appends, finishes those already gathered and returns.
func (a *Appender) Close() {
	close(a.done)
	a.wg.Wait()
}

func (a *Appender) flush() {
	defer a.wg.Done()
	var group []*appendRequest
	var buf []byte
	for {
		group, buf = group[:0], buf[:0]
		select {
		case req := <-a.requests:
			group = append(group, req)
			buf = append(buf, req.data...)
		case <-a.done:
			a.drainClosed()
			return
		}
	gather:
		for len(buf) < a.maxBytes {
			select {
			case req := <-a.requests:
				if len(buf)+len(req.data) > MaxMessage {
					a.publish(group, buf)
					group, buf = group[:0], buf[:0]
				}
				group = append(group, req)
				buf = append(buf, req.data...)
			default:
				break gather
			}
		}
		a.publish(group, buf)
	}
}

func (a *Appender) publish(group []*appendRequest, buf []byte) {
	if len(group) == 0 {
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := a.log.publish(ctx, buf)
	cancel()
	if a.observe != nil {
		a.observe(len(group), len(buf), time.Since(start), err)
	}
	for _, req := range group {
		req.result <- err
	}
}

// drainClosed answers requests still queued when the appender closes.
func (a *Appender) drainClosed() {
	for {
		select {
		case req := <-a.requests:
			a.publish([]*appendRequest{req}, req.data)
		default:
			return
		}
	}
}
