package pn532

import (
	"errors"
	"fmt"
)

// Frame bytes, PN532 User Manual clause 6.2.1.
const (
	preamble   = 0x00 // PREAMBLE and POSTAMBLE
	startCode1 = 0x00 // START CODE, first byte
	startCode2 = 0xFF // START CODE, second byte

	// TFIHost is the frame identifier of frames from the host to the PN532.
	TFIHost = 0xD4
	// TFIChip is the frame identifier of frames from the PN532 to the host.
	TFIChip = 0xD5
	// tfiError is the frame identifier of the application-level error frame
	// (clause 6.2.1.5): the chip could not make sense of the last command.
	tfiError = 0x7F
)

// Limits of one frame.
const (
	// MaxNormalLen is the longest TFI+PD of a normal information frame
	// (clause 6.2.1.1): LEN is one byte.
	MaxNormalLen = 255
	// MaxFrameLen is the longest TFI+PD the PN532 takes or gives in one
	// extended information frame (clause 6.2.1.2: the chip's buffer is 265
	// bytes, TFI, command code, one parameter byte and 262 data bytes).
	MaxFrameLen = 265
	// MaxData is the most data bytes one InDataExchange carries either way
	// (clause 7.3.8: DataOut and DataIn are at most 262 bytes); longer data
	// is chained with the MI bit.
	MaxData = 262
)

// ackFrame and nackFrame are the fixed ACK and NACK frames (clauses 6.2.1.3
// and 6.2.1.4); errFrame is the application-level error frame (6.2.1.5).
var (
	ackFrame  = []byte{preamble, startCode1, startCode2, 0x00, 0xFF, preamble}
	nackFrame = []byte{preamble, startCode1, startCode2, 0xFF, 0x00, preamble}
	errFrame  = []byte{preamble, startCode1, startCode2, 0x01, 0xFF, tfiError, 0x81, preamble}
)

// FrameKind tells the four kinds of frame apart.
type FrameKind int

// Frame kinds.
const (
	// KindInfo is a normal or extended information frame.
	KindInfo FrameKind = iota + 1
	// KindACK acknowledges a frame (and, from the host, aborts the
	// command in progress).
	KindACK
	// KindNACK asks the other side to send its last frame again.
	KindNACK
	// KindError is the chip's application-level error frame: the command
	// was well framed but not understood (syntax error).
	KindError
)

func (k FrameKind) String() string {
	switch k {
	case KindInfo:
		return "information"
	case KindACK:
		return "ACK"
	case KindNACK:
		return "NACK"
	case KindError:
		return "error"
	}
	return fmt.Sprintf("FrameKind(%d)", int(k))
}

// Frame is one parsed frame.
type Frame struct {
	Kind FrameKind
	// Extended reports an extended information frame (clause 6.2.1.2).
	Extended bool
	// TFI is the frame identifier of an information frame (TFIHost or
	// TFIChip).
	TFI byte
	// Data is PD0..PDn of an information frame: the command or response
	// code and its parameters. It aliases the parsed buffer.
	Data []byte
}

// Errors of ParseFrame.
var (
	// ErrShortFrame reports that the buffer ends before the frame does; on
	// a byte stream, read more and parse again.
	ErrShortFrame = errors.New("pn532: truncated frame")
	// ErrChecksum reports a frame whose LCS or DCS does not add up; the
	// receiver answers with a NACK.
	ErrChecksum = errors.New("pn532: frame checksum mismatch")
	// ErrBadFrame reports bytes that are not a frame.
	ErrBadFrame = errors.New("pn532: malformed frame")
)

// ACKFrame returns the ACK frame.
func ACKFrame() []byte { return append([]byte(nil), ackFrame...) }

// NACKFrame returns the NACK frame.
func NACKFrame() []byte { return append([]byte(nil), nackFrame...) }

// ErrorFrame returns the application-level error frame.
func ErrorFrame() []byte { return append([]byte(nil), errFrame...) }

// EncodeInfo returns the information frame carrying tfi and data: a normal
// frame when TFI+data fit in 255 bytes, an extended one otherwise. It fails
// when TFI+data exceed MaxFrameLen or data is empty.
//
//	normal:   00 00 FF LEN LCS TFI PD0..PDn DCS 00
//	extended: 00 00 FF FF FF LENm LENl LCS TFI PD0..PDn DCS 00
//
// LEN counts TFI and PD; LEN+LCS and TFI+PD+DCS are 0 modulo 256.
func EncodeInfo(tfi byte, data []byte) ([]byte, error) {
	n := 1 + len(data)
	if len(data) == 0 || n > MaxFrameLen {
		return nil, fmt.Errorf("pn532: %d data bytes do not fit a frame (1..%d)", len(data), MaxFrameLen-1)
	}
	out := make([]byte, 0, n+10)
	out = append(out, preamble, startCode1, startCode2)
	if n <= MaxNormalLen {
		out = append(out, byte(n), byte(-n))
	} else {
		hi, lo := byte(n>>8), byte(n)
		out = append(out, 0xFF, 0xFF, hi, lo, -(hi + lo))
	}
	sum := tfi
	out = append(out, tfi)
	for _, b := range data {
		sum += b
	}
	out = append(out, data...)
	return append(out, -sum, preamble), nil
}

// cursor reads a byte slice front to back; its reads report ok=false
// instead of running off the end.
type cursor struct {
	b   []byte
	off int
}

func (c *cursor) byte() (byte, bool) {
	if c.off >= len(c.b) {
		return 0, false
	}
	v := c.b[c.off]
	c.off++
	return v, true
}

func (c *cursor) bytes(n int) ([]byte, bool) {
	if n < 0 || len(c.b)-c.off < n {
		return nil, false
	}
	v := c.b[c.off : c.off+n]
	c.off += n
	return v, true
}

// ParseFrame parses the first frame in b. Leading bytes before the start code
// 00 FF (preambles, wake-up bytes, padding of a bus read) are skipped; the
// postamble is consumed when present. It returns the frame and the number of
// bytes of b it used. When the buffer ends inside the frame the error is
// ErrShortFrame (n is 0: keep the bytes and read more); for a checksum or
// format error, n covers the bad frame so a stream reader can drop it.
func ParseFrame(b []byte) (f Frame, n int, err error) {
	start := -1
	for i := 0; i+1 < len(b); i++ {
		if b[i] == startCode1 && b[i+1] == startCode2 {
			start = i
			break
		}
	}
	if start < 0 {
		return Frame{}, 0, ErrShortFrame
	}
	c := &cursor{b: b, off: start + 2}
	l1, ok1 := c.byte()
	l2, ok2 := c.byte()
	if !ok1 || !ok2 {
		return Frame{}, 0, ErrShortFrame
	}
	done := func() int {
		if c.off < len(b) && b[c.off] == preamble {
			c.off++
		}
		return c.off
	}
	switch {
	case l1 == 0x00 && l2 == 0xFF:
		return Frame{Kind: KindACK}, done(), nil
	case l1 == 0xFF && l2 == 0x00:
		return Frame{Kind: KindNACK}, done(), nil
	}
	var length int
	extended := l1 == 0xFF && l2 == 0xFF
	if extended {
		hdr, ok := c.bytes(3)
		if !ok {
			return Frame{}, 0, ErrShortFrame
		}
		if hdr[0]+hdr[1]+hdr[2] != 0 {
			return Frame{}, c.off, fmt.Errorf("%w: extended length checksum", ErrChecksum)
		}
		length = int(hdr[0])<<8 | int(hdr[1])
	} else {
		if l1+l2 != 0 {
			return Frame{}, c.off, fmt.Errorf("%w: length checksum", ErrChecksum)
		}
		length = int(l1)
	}
	if length == 0 || length > MaxFrameLen {
		return Frame{}, c.off, fmt.Errorf("%w: length %d outside 1..%d", ErrBadFrame, length, MaxFrameLen)
	}
	body, ok := c.bytes(length)
	if !ok {
		return Frame{}, 0, ErrShortFrame
	}
	dcs, ok := c.byte()
	if !ok {
		return Frame{}, 0, ErrShortFrame
	}
	sum := dcs
	for _, v := range body {
		sum += v
	}
	if sum != 0 {
		return Frame{}, done(), fmt.Errorf("%w: data checksum", ErrChecksum)
	}
	if length == 1 && body[0] == tfiError && !extended {
		return Frame{Kind: KindError, TFI: tfiError}, done(), nil
	}
	if length < 2 {
		return Frame{}, done(), fmt.Errorf("%w: information frame without a command code", ErrBadFrame)
	}
	return Frame{Kind: KindInfo, Extended: extended, TFI: body[0], Data: body[1:]}, done(), nil
}

// Encode returns the bytes of f as the chip or the host would send them.
func (f Frame) Encode() ([]byte, error) {
	switch f.Kind {
	case KindACK:
		return ACKFrame(), nil
	case KindNACK:
		return NACKFrame(), nil
	case KindError:
		return ErrorFrame(), nil
	case KindInfo:
		return EncodeInfo(f.TFI, f.Data)
	}
	return nil, fmt.Errorf("%w: kind %v", ErrBadFrame, f.Kind)
}
