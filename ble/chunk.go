package ble

import "fmt"

// Chunk leading bytes (ISO/IEC 18013-5 clause 8.3.3.1.1.6, per MPZ).
const (
	chunkLast byte = 0x00 // last chunk of the message
	chunkMore byte = 0x01 // more chunks follow
)

const (
	// MinMTU is the ATT default MTU, used when none was negotiated.
	MinMTU = 23
	// MaxMTU is the largest ATT MTU that 18013-5 stacks request.
	MaxMTU = 517
	// maxAttributeValue is the largest GATT attribute value (Core Vol 3
	// Part F 3.2.9), which caps a chunk even with MTU 517 (MPZ uses
	// min(MTU−3, 512)).
	maxAttributeValue = 512
	// attHeader is the ATT opcode + handle overhead of a write or
	// notification.
	attHeader = 3
)

// MaxChunkSize returns the largest chunk, leading byte included, for an ATT
// MTU: min(mtu−3, 512). An mtu below 23 counts as 23.
func MaxChunkSize(mtu int) int {
	mtu = max(mtu, MinMTU)
	return min(mtu-attHeader, maxAttributeValue)
}

// MaxChunkData returns the message bytes one chunk carries at an ATT MTU:
// MaxChunkSize(mtu) − 1.
func MaxChunkData(mtu int) int { return MaxChunkSize(mtu) - 1 }

// NumChunks returns how many chunks a message of n bytes takes at an ATT MTU
// (one for an empty message).
func NumChunks(n, mtu int) int {
	if n <= 0 {
		return 1
	}
	d := MaxChunkData(mtu)
	return (n + d - 1) / d
}

// SplitMessage splits msg into chunks for an ATT MTU (ISO/IEC 18013-5 clause
// 8.3.3.1.1.6): each chunk is 0x01 (more) or 0x00 (last) followed by up to
// MaxChunkData(mtu) bytes of msg. The chunks are fresh slices.
func SplitMessage(msg []byte, mtu int) [][]byte {
	out := make([][]byte, 0, NumChunks(len(msg), mtu))
	forEachChunk(msg, mtu, make([]byte, 0, MaxChunkSize(mtu)), func(c []byte) error {
		out = append(out, append([]byte(nil), c...))
		return nil
	})
	return out
}

// forEachChunk calls f with each chunk of msg, built in buf (reused: f must
// not retain it), and stops at the first error.
func forEachChunk(msg []byte, mtu int, buf []byte, f func([]byte) error) error {
	d := MaxChunkData(mtu)
	for off := 0; ; {
		n := min(d, len(msg)-off)
		lead := chunkMore
		if off+n == len(msg) {
			lead = chunkLast
		}
		buf = append(append(buf[:0], lead), msg[off:off+n]...)
		if err := f(buf); err != nil {
			return err
		}
		off += n
		if lead == chunkLast {
			return nil
		}
	}
}

// Reassembler rebuilds messages from chunks (ISO/IEC 18013-5 clause
// 8.3.3.1.1.6). It accepts non-final chunks shorter than the MTU allows (MPZ
// only warns about them), rejects an empty chunk, a chunk longer than
// MaxChunk, an unknown leading byte, and a message longer than Limit. The zero
// value has no limits; use [NewReassembler].
type Reassembler struct {
	// Limit is the largest message accepted; 0 means no limit.
	Limit int
	// MaxChunk is the largest chunk accepted, leading byte included; 0 means
	// 512, the largest attribute value.
	MaxChunk int

	buf     []byte
	pending bool // a non-final chunk was received
}

// NewReassembler returns a Reassembler accepting messages up to limit bytes.
func NewReassembler(limit int) *Reassembler { return &Reassembler{Limit: limit} }

// Add consumes one chunk. When it was the last chunk it returns the whole
// message (a fresh slice, possibly empty) and done = true. After an error the
// partial message is discarded and the next chunk starts a new message.
func (r *Reassembler) Add(chunk []byte) (msg []byte, done bool, err error) {
	maxChunk := r.MaxChunk
	if maxChunk <= 0 {
		maxChunk = maxAttributeValue
	}
	switch {
	case len(chunk) == 0:
		r.Reset()
		return nil, false, fmt.Errorf("%w: empty chunk", ErrProtocol)
	case len(chunk) > maxChunk:
		r.Reset()
		return nil, false, fmt.Errorf("%w: chunk of %d bytes exceeds %d", ErrProtocol, len(chunk), maxChunk)
	case chunk[0] != chunkMore && chunk[0] != chunkLast:
		r.Reset()
		return nil, false, fmt.Errorf("%w: unknown chunk leading byte 0x%02x", ErrProtocol, chunk[0])
	}
	data := chunk[1:]
	if r.Limit > 0 && len(r.buf)+len(data) > r.Limit {
		n := len(r.buf) + len(data)
		r.Reset()
		return nil, false, fmt.Errorf("%w: at least %d bytes, limit %d", ErrMessageTooLarge, n, r.Limit)
	}
	if chunk[0] == chunkMore {
		r.buf = append(r.buf, data...)
		r.pending = true
		return nil, false, nil
	}
	if !r.pending {
		// Single-chunk message: no need to go through buf.
		return append(make([]byte, 0, len(data)), data...), true, nil
	}
	msg = append(r.buf, data...)
	r.buf, r.pending = nil, false
	return msg, true, nil
}

// Buffered reports how many bytes of an unfinished message are held.
func (r *Reassembler) Buffered() int { return len(r.buf) }

// InProgress reports whether a message has started but not finished.
func (r *Reassembler) InProgress() bool { return r.pending }

// Reset discards any partial message.
func (r *Reassembler) Reset() { r.buf, r.pending = nil, false }
