package nfc

import (
	"context"
	"errors"
	"fmt"
)

// DataTransferAID is A0 00 00 02 48 04 00, the application the reader
// SELECTs for NFC data transfer (ISO/IEC 18013-5 clause 8.3.3.1.2).
var DataTransferAID = []byte{0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00}

// tagEncapsulated is the BER-TLV tag 53 (discretionary data) that wraps
// every message in NFC data transfer (ISO/IEC 18013-5 clause 8.3.3.1.2).
const tagEncapsulated byte = 0x53

// maxTLVValue is the largest value a 3-byte BER length (83 xxxxxx) holds.
const maxTLVValue = 0xFFFFFF

// ErrMalformedTLV is wrapped by BER-TLV 53 parsing errors.
var ErrMalformedTLV = errors.New("nfc: malformed tlv")

// WrapTLV53 wraps msg in BER-TLV 53 with a minimal length (1 byte below
// 0x80, else 81 xx / 82 xxxx / 83 xxxxxx).
func WrapTLV53(msg []byte) ([]byte, error) {
	n := len(msg)
	if n > maxTLVValue {
		return nil, fmt.Errorf("%w: value of %d bytes", ErrMalformedTLV, n)
	}
	b := make([]byte, 0, 5+n)
	b = append(b, tagEncapsulated)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n <= 0xFF:
		b = append(b, 0x81, byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, msg...), nil
}

// ParseTLV53 returns the value of the single BER-TLV 53 that b must consist
// of. It rejects other tags, truncation, trailing bytes and non-minimal
// lengths. The value aliases b.
func ParseTLV53(b []byte) ([]byte, error) {
	c := cursor(b)
	var tag, l byte
	if !c.u8(&tag) || !c.u8(&l) {
		return nil, fmt.Errorf("%w: truncated header", ErrMalformedTLV)
	}
	if tag != tagEncapsulated {
		return nil, fmt.Errorf("%w: tag %#02x, want 53", ErrMalformedTLV, tag)
	}
	n := int(l)
	if l >= 0x80 {
		k := int(l - 0x80)
		if k < 1 || k > 3 {
			return nil, fmt.Errorf("%w: length form %#02x", ErrMalformedTLV, l)
		}
		var lb []byte
		if !c.bytes(&lb, k) {
			return nil, fmt.Errorf("%w: truncated length", ErrMalformedTLV)
		}
		n = 0
		for _, x := range lb {
			n = n<<8 | int(x)
		}
		if lb[0] == 0 || (k == 1 && n < 0x80) {
			return nil, fmt.Errorf("%w: non-minimal length", ErrMalformedTLV)
		}
	}
	var v []byte
	if !c.bytes(&v, n) {
		return nil, fmt.Errorf("%w: value of %d bytes truncated to %d", ErrMalformedTLV, n, len(c))
	}
	if len(c) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the value", ErrMalformedTLV, len(c))
	}
	return v, nil
}

// Envelope returns an ENVELOPE command (INS C3, P1-P2 0000) carrying one
// block: CLA 10 and no Le for a non-last block of a chain, CLA 00 and Le = ne
// for the last (ISO/IEC 18013-5 clause 8.3.3.1.2; ISO/IEC 7816-4 clause
// 5.3.3).
func Envelope(block []byte, last bool, ne int) Command {
	if !last {
		return Command{CLA: ClaChained, INS: InsEnvelope, Data: block}
	}
	return Command{CLA: ClaISO, INS: InsEnvelope, Data: block, Ne: ne}
}

// Exchanger sends 18013-5 messages (SessionEstablishment, SessionData) over
// NFC data transfer and returns the replies (ISO/IEC 18013-5 clause
// 8.3.3.1.2). Block sizes are the smaller of the reader limits and the
// mdoc's maximum command and response data lengths.
type Exchanger struct {
	t        Transceiver
	lim      Limits
	cmdBlock int
	respMax  int
}

// NewExchanger returns an Exchanger over t. mdoc is the mdoc's NFC carrier
// record from the Handover Select (or the DeviceEngagement NFC options);
// nil or zero lengths mean no limit beyond the reader's.
func NewExchanger(t Transceiver, lim Limits, mdoc *NFCCarrier) *Exchanger {
	e := &Exchanger{t: t, lim: lim, cmdBlock: lim.CommandData(), respMax: lim.ResponseData()}
	if mdoc != nil {
		if mdoc.MaxCommandData > 0 && mdoc.MaxCommandData < e.cmdBlock {
			e.cmdBlock = mdoc.MaxCommandData
		}
		if mdoc.MaxResponseData > 0 && mdoc.MaxResponseData < e.respMax {
			e.respMax = mdoc.MaxResponseData
		}
	}
	e.lim.MaxCommandData, e.lim.MaxResponseData = e.cmdBlock, e.respMax
	return e
}

// CommandBlock and ResponseMax report the negotiated sizes.
func (e *Exchanger) CommandBlock() int { return e.cmdBlock }

// ResponseMax is the Le of the last ENVELOPE and of GET RESPONSE after 6100.
func (e *Exchanger) ResponseMax() int { return e.respMax }

// Select SELECTs the data transfer application.
func (e *Exchanger) Select(ctx context.Context) error {
	if _, err := Transmit(ctx, e.t, e.lim, SelectAID(DataTransferAID)); err != nil {
		return fmt.Errorf("selecting data transfer application: %w", err)
	}
	return nil
}

// Exchange wraps msg in TLV 53, sends it in ENVELOPE blocks (CLA 10 on all
// but the last, which carries Le), collects the reply through GET RESPONSE
// while the mdoc answers 61xx, and returns the unwrapped reply.
func (e *Exchanger) Exchange(ctx context.Context, msg []byte) ([]byte, error) {
	wrapped, err := WrapTLV53(msg)
	if err != nil {
		return nil, fmt.Errorf("sending envelope: %w", err)
	}
	for off := 0; ; off += e.cmdBlock {
		end := min(off+e.cmdBlock, len(wrapped))
		if end < len(wrapped) {
			if _, err := Transmit(ctx, e.t, e.lim, Envelope(wrapped[off:end], false, 0)); err != nil {
				return nil, fmt.Errorf("sending envelope block at %d: %w", off, err)
			}
			continue
		}
		reply, err := Transmit(ctx, e.t, e.lim, Envelope(wrapped[off:end], true, e.respMax))
		if err != nil {
			return nil, fmt.Errorf("sending last envelope block: %w", err)
		}
		v, err := ParseTLV53(reply)
		if err != nil {
			return nil, fmt.Errorf("reading envelope reply: %w", err)
		}
		return v, nil
	}
}

// EnvelopeReceiver is the mdoc side of command chaining: it collects
// ENVELOPE blocks until the last one (CLA without the chaining bit) and
// returns the unwrapped message. The zero value is ready to use.
type EnvelopeReceiver struct {
	buf []byte
	// Max bounds the assembled size; 0 means 1 MiB.
	Max int
}

// Add takes one parsed ENVELOPE command. It returns done = false for a
// chained block (answer 9000) and done = true with the TLV 53 value after
// the last block. On error the receiver is reset.
func (r *EnvelopeReceiver) Add(cmd Command) (msg []byte, done bool, err error) {
	if cmd.INS != InsEnvelope || cmd.P1 != 0 || cmd.P2 != 0 {
		r.buf = nil
		return nil, false, fmt.Errorf("%w: not an ENVELOPE 00 00", ErrInsNotSupported)
	}
	max := r.Max
	if max == 0 {
		max = 1 << 20
	}
	if len(r.buf)+len(cmd.Data) > max {
		r.buf = nil
		return nil, false, fmt.Errorf("%w: chained message exceeds %d bytes", ErrWrongLength, max)
	}
	r.buf = append(r.buf, cmd.Data...)
	if cmd.CLA&ClaChained != 0 {
		return nil, false, nil
	}
	b := r.buf
	r.buf = nil
	v, err := ParseTLV53(b)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// ResponseChunker is the mdoc side of response chaining: it serves a reply
// in Le-sized pieces (ISO/IEC 7816-4 clause 5.3.4, as 18013-5 implementations
// quote it): data + 9000 when the rest fits, Le bytes + 6100 when more than
// 255 bytes remain after them, Le bytes + 61xx when 1..255 remain.
type ResponseChunker struct {
	rest []byte
}

// NewResponseChunker returns a chunker for the reply (already wrapped, see
// [ResponseChunker.SetMessage] for wrapping).
func NewResponseChunker(reply []byte) *ResponseChunker {
	return &ResponseChunker{rest: reply}
}

// SetMessage wraps msg in TLV 53 and queues it.
func (c *ResponseChunker) SetMessage(msg []byte) error {
	w, err := WrapTLV53(msg)
	if err != nil {
		return err
	}
	c.rest = w
	return nil
}

// Pending reports how many bytes are left to serve.
func (c *ResponseChunker) Pending() int { return len(c.rest) }

// Next serves up to ne bytes (ne from the command's Le; 0 means no Le,
// which gets no data).
func (c *ResponseChunker) Next(ne int) Response {
	n := min(ne, len(c.rest))
	out := Response{Data: c.rest[:n:n]}
	c.rest = c.rest[n:]
	switch left := len(c.rest); {
	case left == 0:
		out.SW = SWSuccess
		c.rest = nil
	case left > 0xFF:
		out.SW = 0x6100
	default:
		out.SW = 0x6100 | uint16(left)
	}
	return out
}
