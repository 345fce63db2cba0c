package process

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// putters is how many recording chunks are written to the blob store at
// once. A put is mostly waiting: on a round trip to S3, or on disk syncs for
// a local folder (where concurrent puts gain less, since the folder of a new
// session is made and synced one at a time).
const putters = 16

// buildChunk makes a batch's rrweb events into one compressed JSON array.
// The key is fixed by (site, session, seq), so a redelivery overwrites the
// same object with the same bytes.
func buildChunk(rec wire.Record, events []json.RawMessage) (*store.Chunk, []byte) {
	chunk := &store.Chunk{
		SessionID: rec.SessionID,
		Seq:       rec.Seq,
		BlobKey: fmt.Sprintf("rec/%d/%s/%010d", rec.SiteID,
			wire.FormatID(rec.SessionID), rec.Seq),
		Events: len(events),
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, ev := range events {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(ev)
		var head struct {
			Timestamp int64 `json:"timestamp"`
		}
		if json.Unmarshal(ev, &head) == nil && head.Timestamp != 0 {
			if chunk.FirstTS == 0 || head.Timestamp < chunk.FirstTS {
				chunk.FirstTS = head.Timestamp
			}
			chunk.LastTS = max(chunk.LastTS, head.Timestamp)
		}
	}
	buf.WriteByte(']')
	data := blob.Compress(buf.Bytes())
	chunk.Bytes = int64(len(data))
	return chunk, data
}

// chunkPuts writes the recording chunks of a group to the blob store, each
// from the moment its batch is decoded, at most putters at a time.
type chunkPuts struct {
	blobs blob.Store
	slots chan struct{}
	wg    sync.WaitGroup

	mu  sync.Mutex
	err error
}

func newChunkPuts(blobs blob.Store) *chunkPuts {
	return &chunkPuts{blobs: blobs, slots: make(chan struct{}, putters)}
}

// put starts writing the chunk of it.
func (c *chunkPuts) put(ctx context.Context, it *item) {
	c.wg.Go(func() {
		c.slots <- struct{}{}
		defer func() { <-c.slots }()
		if err := c.blobs.Put(ctx, it.chunk.BlobKey, it.chunkData); err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = fmt.Errorf("write recording chunk: %w", err)
			}
			c.mu.Unlock()
		}
	})
}

// wait returns once every chunk started is written, with the first error.
func (c *chunkPuts) wait() error {
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
