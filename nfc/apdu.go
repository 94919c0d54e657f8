package nfc

import (
	"context"
	"errors"
	"fmt"
)

// Instruction bytes used by this package (ISO/IEC 7816-4 clause 5.1, table 4.2;
// ENVELOPE per ISO/IEC 18013-5 clause 8.3.3.1.2).
const (
	InsSelect       byte = 0xA4
	InsReadBinary   byte = 0xB0
	InsUpdateBinary byte = 0xD6
	InsGetResponse  byte = 0xC0
	InsEnvelope     byte = 0xC3
)

// Class bytes (ISO/IEC 7816-4 clause 5.4.1): interindustry, and the same with
// the command-chaining bit b5 set ("not the last command of a chain").
const (
	ClaISO     byte = 0x00
	ClaChained byte = 0x10
)

// Largest field lengths of ISO/IEC 7816-4 clause 5.1: Nc ≤ 255 / 65535 and
// Ne ≤ 256 / 65536 for short / extended length fields.
const (
	MaxShortCommandData     = 255
	MaxShortResponseData    = 256
	MaxExtendedCommandData  = 65535
	MaxExtendedResponseData = 65536
)

// ErrMalformedAPDU is wrapped by every APDU parsing and encoding error.
var ErrMalformedAPDU = errors.New("nfc: malformed apdu")

// Transceiver sends one command APDU and returns the response APDU (data + SW1
// SW2). It is the only way this package reaches the card; implementations
// must honour ctx and must not retain apdu after returning.
type Transceiver interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// Limits describes what the physical reader can carry. The zero value is a
// short-only reader (Nc ≤ 255, Ne ≤ 256), which every PC/SC reader handles.
type Limits struct {
	// ExtendedAPDU reports that the reader (and its driver) can send
	// extended-length APDUs (ISO/IEC 7816-4 clause 5.1).
	ExtendedAPDU bool
	// MaxCommandData is the largest command data field the reader can send;
	// 0 means 255 (short) or 65535 (extended).
	MaxCommandData int
	// MaxResponseData is the largest response data field (Ne) the reader can
	// receive; 0 means 256 (short) or 65536 (extended).
	MaxResponseData int
}

// CommandData returns the effective largest command data length.
func (l Limits) CommandData() int {
	max := MaxShortCommandData
	if l.ExtendedAPDU {
		max = MaxExtendedCommandData
	}
	if l.MaxCommandData > 0 && l.MaxCommandData < max {
		return l.MaxCommandData
	}
	return max
}

// ResponseData returns the effective largest response data length.
func (l Limits) ResponseData() int {
	max := MaxShortResponseData
	if l.ExtendedAPDU {
		max = MaxExtendedResponseData
	}
	if l.MaxResponseData > 0 && l.MaxResponseData < max {
		return l.MaxResponseData
	}
	return max
}

// Command is a command APDU (ISO/IEC 7816-4 clause 5.1).
type Command struct {
	CLA, INS, P1, P2 byte
	// Data is the command data field (Nc = len(Data)); nil or empty means no
	// Lc field.
	Data []byte
	// Ne is the maximum number of response bytes expected; 0 means no Le
	// field. Ne = 256 is encoded as short Le 00 and Ne = 65536 as extended
	// Le 0000.
	Ne int
	// Extended forces extended length fields. Encode also uses them when
	// Nc > 255 or Ne > 256; ParseCommand sets it when the APDU used them.
	Extended bool
}

// IsExtended reports whether c is encoded with extended length fields.
func (c Command) IsExtended() bool {
	return (c.Extended && (len(c.Data) > 0 || c.Ne > 0)) || len(c.Data) > MaxShortCommandData || c.Ne > MaxShortResponseData
}

// Encode returns the APDU bytes: cases 1, 2, 3 and 4 of ISO/IEC 7816-4
// clause 5.1, with Lc and Le in the same (short or extended) form.
func (c Command) Encode() ([]byte, error) {
	if len(c.Data) > MaxExtendedCommandData {
		return nil, fmt.Errorf("%w: command data of %d bytes", ErrMalformedAPDU, len(c.Data))
	}
	if c.Ne < 0 || c.Ne > MaxExtendedResponseData {
		return nil, fmt.Errorf("%w: Ne %d", ErrMalformedAPDU, c.Ne)
	}
	b := make([]byte, 0, 4+3+len(c.Data)+3)
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	if c.IsExtended() {
		if len(c.Data) > 0 {
			b = append(b, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
			b = append(b, c.Data...)
		}
		if c.Ne > 0 {
			if len(c.Data) == 0 {
				b = append(b, 0) // case 2E: Le is 00 hh ll
			}
			ne := c.Ne
			if ne == MaxExtendedResponseData {
				ne = 0
			}
			b = append(b, byte(ne>>8), byte(ne))
		}
		return b, nil
	}
	if len(c.Data) > 0 {
		b = append(b, byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.Ne > 0 {
		b = append(b, byte(c.Ne)) // 256 encodes as 00
	}
	return b, nil
}

// ParseCommand decodes a command APDU of any case, short or extended
// (ISO/IEC 7816-3 clause 12.1.3). It rejects truncated or overlong APDUs, a
// zero Lc, and Lc and Le in different forms. Data aliases b.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: truncated header (%d bytes)", ErrMalformedAPDU, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2S
		c.Ne = int(body[0])
		if c.Ne == 0 {
			c.Ne = MaxShortResponseData
		}
		return c, nil
	case body[0] != 0: // case 3S or 4S
		nc := int(body[0])
		switch len(body) {
		case 1 + nc:
			c.Data = body[1:]
		case 2 + nc:
			c.Data = body[1 : 1+nc]
			c.Ne = int(body[1+nc])
			if c.Ne == 0 {
				c.Ne = MaxShortResponseData
			}
		default:
			if len(body) < 1+nc {
				return Command{}, fmt.Errorf("%w: truncated data (Lc %d, %d bytes)", ErrMalformedAPDU, nc, len(body)-1)
			}
			return Command{}, fmt.Errorf("%w: body length %d does not match short Lc %d", ErrMalformedAPDU, len(body), nc)
		}
		return c, nil
	}
	// Extended: body starts with 00.
	c.Extended = true
	if len(body) < 3 {
		return Command{}, fmt.Errorf("%w: truncated extended length", ErrMalformedAPDU)
	}
	n := int(body[1])<<8 | int(body[2])
	if len(body) == 3 { // case 2E
		c.Ne = n
		if c.Ne == 0 {
			c.Ne = MaxExtendedResponseData
		}
		return c, nil
	}
	if n == 0 {
		return Command{}, fmt.Errorf("%w: extended Lc of zero", ErrMalformedAPDU)
	}
	switch len(body) {
	case 3 + n: // case 3E
		c.Data = body[3:]
	case 5 + n: // case 4E
		c.Data = body[3 : 3+n]
		c.Ne = int(body[3+n])<<8 | int(body[4+n])
		if c.Ne == 0 {
			c.Ne = MaxExtendedResponseData
		}
	default:
		if len(body) < 3+n {
			return Command{}, fmt.Errorf("%w: truncated data (Lc %d, %d bytes)", ErrMalformedAPDU, n, len(body)-3)
		}
		return Command{}, fmt.Errorf("%w: body length %d does not match extended Lc %d (Lc and Le must use the same form)", ErrMalformedAPDU, len(body), n)
	}
	return c, nil
}

// Response is a response APDU: data field and status word (ISO/IEC 7816-4
// clause 5.2).
type Response struct {
	Data []byte
	// SW is SW1 << 8 | SW2.
	SW uint16
}

// ParseResponse splits a response APDU into data and status word. Data
// aliases b.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: response of %d bytes has no status word", ErrMalformedAPDU, len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Encode returns data followed by SW1 SW2.
func (r Response) Encode() []byte {
	b := make([]byte, 0, len(r.Data)+2)
	b = append(b, r.Data...)
	return append(b, byte(r.SW>>8), byte(r.SW))
}

// Err returns nil for 9000 and a [StatusError] otherwise.
func (r Response) Err() error {
	if r.SW == SWSuccess {
		return nil
	}
	return StatusError{SW: r.SW}
}

// GetResponse returns the GET RESPONSE command 00 C0 00 00 Le for ne bytes
// (ISO/IEC 7816-4 clause 7.6.1). It has no Lc field; Le is short unless
// ne > 256.
func GetResponse(ne int) Command {
	return Command{CLA: ClaISO, INS: InsGetResponse, Ne: ne}
}

// maxChainedResponse bounds what Transmit assembles from 61xx chains so a
// misbehaving card cannot make the reader allocate without end.
const maxChainedResponse = 1 << 24

// Transmit encodes cmd, sends it through t and returns the response data.
// While the card answers 61xx it sends GET RESPONSE, with Le = xx, or with
// Le = the largest lim allows when xx is 00 ("more than 255 bytes remain"),
// and concatenates the data (ISO/IEC 7816-4 clause 5.3.4). Any final status
// other than 9000 is returned as a [StatusError].
func Transmit(ctx context.Context, t Transceiver, lim Limits, cmd Command) ([]byte, error) {
	apdu, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	var out []byte
	for {
		raw, err := t.Transmit(ctx, apdu)
		if err != nil {
			return nil, err
		}
		resp, err := ParseResponse(raw)
		if err != nil {
			return nil, err
		}
		if len(out)+len(resp.Data) > maxChainedResponse {
			return nil, fmt.Errorf("%w: chained response exceeds %d bytes", ErrMalformedAPDU, maxChainedResponse)
		}
		if out == nil && resp.SW>>8 != 0x61 {
			if err := resp.Err(); err != nil {
				return nil, err
			}
			return resp.Data, nil
		}
		if out != nil && len(resp.Data) == 0 && resp.SW>>8 == 0x61 {
			// A GET RESPONSE that returns nothing but "more to come" makes
			// no progress; a card repeating it would keep the reader busy
			// until the step's deadline.
			return nil, fmt.Errorf("%w: GET RESPONSE returned no data and %04X", ErrMalformedAPDU, resp.SW)
		}
		if out == nil {
			out = make([]byte, 0, len(resp.Data))
		}
		out = append(out, resp.Data...)
		if resp.SW>>8 != 0x61 {
			if err := resp.Err(); err != nil {
				return nil, err
			}
			return out, nil
		}
		ne := int(resp.SW & 0xFF)
		if ne == 0 {
			ne = lim.ResponseData()
		}
		if ne > lim.ResponseData() {
			ne = lim.ResponseData()
		}
		if apdu, err = GetResponse(ne).Encode(); err != nil {
			return nil, err
		}
	}
}
