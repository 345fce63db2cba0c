package blob

import (
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// ErrTooLarge is wrapped by the error Decompress returns when the output
// would be larger than the caller allows.
var ErrTooLarge = errors.New("blob: decompressed data too large")

// The encoder and decoder are package-level because they are expensive to
// build (tables and buffers per concurrent slot) and a recording chunk is
// small, so building one per call would cost more than the compression.
// EncodeAll and DecodeAll are safe for concurrent use and keep no state
// between calls, so sharing them is sharing read-only values: they are built
// once, on first use so that importing the package costs nothing, and are
// never reconfigured.
var (
	encoder = sync.OnceValue(func() *zstd.Encoder {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			// Only reachable through an invalid constant option above.
			panic(fmt.Sprintf("blob: build zstd encoder: %v", err))
		}
		return enc
	})
	decoder = sync.OnceValue(func() *zstd.Decoder {
		// The cap limit makes DecodeAll stop as soon as the output would
		// outgrow the buffer it is given, which is how Decompress enforces
		// its limit without ever holding more than the limit.
		dec, err := zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			panic(fmt.Sprintf("blob: build zstd decoder: %v", err))
		}
		return dec
	})
)

// Compress returns src as one zstd frame, with its size in the header (which
// lets Decompress allocate exactly once) and a checksum (which catches a chunk
// damaged at rest).
func Compress(src []byte) []byte {
	return encoder().EncodeAll(src, make([]byte, 0, len(src)/4+64))
}

// Decompress returns the data in the zstd frames of src, refusing with an
// error wrapping ErrTooLarge any output over limit bytes. The input is
// untrusted: a few kilobytes can claim or expand to gigabytes, so whatever src
// holds, Decompress stops soon after the output passes limit and allocates
// at most about twice limit (the decoder outgrows its buffer by one block
// before it notices).
func Decompress(src []byte, limit int) ([]byte, error) {
	if limit < 0 {
		return nil, fmt.Errorf("decompress: negative limit %d", limit)
	}
	if len(src) == 0 {
		// The decoder reads no frames as no data; for a stored chunk an
		// empty file means damage, not an empty recording.
		return nil, errors.New("decompress: empty input")
	}

	// A frame that states its size (every frame Compress writes) is refused
	// from its header alone or decoded into a buffer of exactly that size.
	// Without a size the buffer is the whole limit: the runtime takes large
	// buffers fresh from the OS, so only the pages written cost memory.
	size := limit
	var header zstd.Header
	if header.Decode(src) == nil && header.HasFCS {
		if header.FrameContentSize > uint64(limit) {
			return nil, fmt.Errorf("decompress: frame of %d bytes, limit %d: %w",
				header.FrameContentSize, limit, ErrTooLarge)
		}
		size = int(header.FrameContentSize)
	}

	out, err := decoder().DecodeAll(src, make([]byte, 0, size))
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) && size < limit {
		// Only the first frame's size was known; a later one needs room.
		out, err = decoder().DecodeAll(src, make([]byte, 0, limit))
	}
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return nil, fmt.Errorf("decompress: over %d bytes: %w", limit, ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return out, nil
}
