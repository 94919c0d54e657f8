package nfc

import (
	"context"
	"errors"
	"fmt"
)

// Identifiers of the NFC Forum Type 4 Tag NDEF application (T4T 2.0 clause
// 5.1 and 5.4; ISO/IEC 18013-5 clause 8.2.2.1).
var (
	// NDEFApplicationAID is D2 76 00 00 85 01 01, the NDEF Tag Application
	// (mapping version 2.0).
	NDEFApplicationAID = []byte{0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01}
)

// File ID of the Capability Container (T4T clause 5.3).
const CCFileID uint16 = 0xE103

// ErrReadOnly is returned when the CC grants no write access to the NDEF
// file.
var ErrReadOnly = errors.New("nfc: ndef file is read-only")

// ErrMalformedCC is wrapped by Capability Container parsing errors.
var ErrMalformedCC = errors.New("nfc: malformed capability container")

// CapabilityContainer is the Type 4 Tag CC file (T4T 2.0 clause 5.3): CCLEN,
// mapping version, MLe, MLc and the NDEF File Control TLV (T 04, L 06).
type CapabilityContainer struct {
	// MappingVersion is 0x20 for mapping version 2.0.
	MappingVersion byte
	// MLe is the largest R-APDU data size the tag sends for READ BINARY.
	MLe uint16
	// MLc is the largest C-APDU data size the tag accepts for UPDATE BINARY.
	MLc uint16
	// NDEFFileID identifies the NDEF file (usually E104; never hardcode it).
	NDEFFileID uint16
	// MaxNDEFSize is the NDEF file size, NLEN included.
	MaxNDEFSize uint16
	// ReadAccess is 00 for free read access.
	ReadAccess byte
	// WriteAccess is 00 for free write access (negotiated handover) and FF
	// for none (static handover).
	WriteAccess byte
}

// ccLen is the length of a CC with one NDEF File Control TLV.
const ccLen = 15

// ParseCapabilityContainer decodes a CC file. It needs the 15 bytes of a
// mapping 2.0 CC; bytes past CCLEN are ignored, and the NDEF File Control TLV
// must directly follow MLc.
func ParseCapabilityContainer(b []byte) (CapabilityContainer, error) {
	c := cursor(b)
	var cclen uint16
	var cc CapabilityContainer
	var t, l byte
	if !c.u16(&cclen) || !c.u8(&cc.MappingVersion) || !c.u16(&cc.MLe) || !c.u16(&cc.MLc) || !c.u8(&t) || !c.u8(&l) {
		return CapabilityContainer{}, fmt.Errorf("%w: truncated (%d bytes)", ErrMalformedCC, len(b))
	}
	if cclen < ccLen {
		return CapabilityContainer{}, fmt.Errorf("%w: CCLEN %d", ErrMalformedCC, cclen)
	}
	if cc.MappingVersion>>4 != 2 && cc.MappingVersion>>4 != 1 {
		return CapabilityContainer{}, fmt.Errorf("%w: mapping version %#02x", ErrMalformedCC, cc.MappingVersion)
	}
	// T4T 2.0 clause 5.3: MLe ≥ 000F, MLc ≥ 0001.
	if cc.MLe < 0x000F || cc.MLc < 0x0001 {
		return CapabilityContainer{}, fmt.Errorf("%w: MLe %d, MLc %d", ErrMalformedCC, cc.MLe, cc.MLc)
	}
	if t != 0x04 || l != 0x06 {
		return CapabilityContainer{}, fmt.Errorf("%w: NDEF File Control TLV %02x %02x", ErrMalformedCC, t, l)
	}
	if !c.u16(&cc.NDEFFileID) || !c.u16(&cc.MaxNDEFSize) || !c.u8(&cc.ReadAccess) || !c.u8(&cc.WriteAccess) {
		return CapabilityContainer{}, fmt.Errorf("%w: truncated NDEF File Control TLV", ErrMalformedCC)
	}
	if cc.MaxNDEFSize < 0x0005 {
		return CapabilityContainer{}, fmt.Errorf("%w: max NDEF size %d", ErrMalformedCC, cc.MaxNDEFSize)
	}
	return cc, nil
}

// Encode returns the 15-byte CC file.
func (cc CapabilityContainer) Encode() []byte {
	return []byte{
		0x00, ccLen, // CCLEN
		cc.MappingVersion,
		byte(cc.MLe >> 8), byte(cc.MLe),
		byte(cc.MLc >> 8), byte(cc.MLc),
		0x04, 0x06, // NDEF File Control TLV
		byte(cc.NDEFFileID >> 8), byte(cc.NDEFFileID),
		byte(cc.MaxNDEFSize >> 8), byte(cc.MaxNDEFSize),
		cc.ReadAccess, cc.WriteAccess,
	}
}

// SelectAID returns SELECT by DF name, first occurrence, with Le 00:
// 00 A4 04 00 Lc AID 00 (ISO/IEC 7816-4 clause 7.1.1).
func SelectAID(aid []byte) Command {
	return Command{CLA: ClaISO, INS: InsSelect, P1: 0x04, P2: 0x00, Data: aid, Ne: MaxShortResponseData}
}

// SelectFile returns SELECT by file identifier with no response data:
// 00 A4 00 0C 02 id (T4T clause 5.4.3).
func SelectFile(id uint16) Command {
	return Command{CLA: ClaISO, INS: InsSelect, P1: 0x00, P2: 0x0C, Data: []byte{byte(id >> 8), byte(id)}}
}

// ReadBinary returns READ BINARY 00 B0 off_hi off_lo Le (T4T clause 5.4.4);
// off must be below 0x8000.
func ReadBinary(offset, ne int) Command {
	return Command{CLA: ClaISO, INS: InsReadBinary, P1: byte(offset >> 8), P2: byte(offset), Ne: ne}
}

// UpdateBinary returns UPDATE BINARY 00 D6 off_hi off_lo Lc data (T4T
// clause 5.4.5); off must be below 0x8000.
func UpdateBinary(offset int, data []byte) Command {
	return Command{CLA: ClaISO, INS: InsUpdateBinary, P1: byte(offset >> 8), P2: byte(offset), Data: data}
}

// maxFileOffset is the largest offset P1-P2 can address (bit 8 of P1 is 0).
const maxFileOffset = 0x7FFF

// Tag reads and writes the NDEF file of an NFC Forum Type 4 Tag through a
// Transceiver (T4T 2.0 clause 7: NDEF detection, read and update
// procedures). Call Select first.
type Tag struct {
	t   Transceiver
	lim Limits
	cc  CapabilityContainer
	ok  bool
}

// NewTag returns a Tag talking through t within the reader limits lim.
func NewTag(t Transceiver, lim Limits) *Tag {
	return &Tag{t: t, lim: lim}
}

// Select runs NDEF detection: SELECT the NDEF application, SELECT E103,
// READ BINARY the 15-byte CC with a short APDU (the CC is what tells the
// reader MLe), then SELECT the NDEF file the CC names.
func (g *Tag) Select(ctx context.Context) error {
	if _, err := Transmit(ctx, g.t, g.lim, SelectAID(NDEFApplicationAID)); err != nil {
		return fmt.Errorf("selecting ndef application: %w", err)
	}
	if _, err := Transmit(ctx, g.t, g.lim, SelectFile(CCFileID)); err != nil {
		return fmt.Errorf("selecting capability container: %w", err)
	}
	b, err := Transmit(ctx, g.t, g.lim, ReadBinary(0, ccLen))
	if err != nil {
		return fmt.Errorf("reading capability container: %w", err)
	}
	cc, err := ParseCapabilityContainer(b)
	if err != nil {
		return fmt.Errorf("reading capability container: %w", err)
	}
	if cc.ReadAccess != 0x00 {
		return fmt.Errorf("reading capability container: %w: read access %#02x", ErrSecurityStatus, cc.ReadAccess)
	}
	if _, err := Transmit(ctx, g.t, g.lim, SelectFile(cc.NDEFFileID)); err != nil {
		return fmt.Errorf("selecting ndef file %04X: %w", cc.NDEFFileID, err)
	}
	g.cc, g.ok = cc, true
	return nil
}

// CC returns the capability container read by Select.
func (g *Tag) CC() CapabilityContainer { return g.cc }

func (g *Tag) readChunk() int {
	n := g.lim.ResponseData()
	if int(g.cc.MLe) < n {
		n = int(g.cc.MLe)
	}
	return n
}

func (g *Tag) writeChunk() int {
	n := g.lim.CommandData()
	if int(g.cc.MLc) < n {
		n = int(g.cc.MLc)
	}
	return n
}

// ReadNDEF reads the NDEF message (T4T clause 7.4.2) in as few READ BINARY
// commands as the tag and the reader allow: the first reads NLEN and the
// start of the message together at offset 0 with Le = min(MLe, the NDEF
// file size, the reader limit), which stays inside the file the CC
// announces; the rest follows in chunks of the same size. It returns an
// empty slice when NLEN is 0 (for a TNEP tag: the answer is not ready yet).
// A tag that refuses the large first read with a status word is read the
// classic way, NLEN (Le 2) first.
func (g *Tag) ReadNDEF(ctx context.Context) ([]byte, error) {
	if !g.ok {
		return nil, errors.New("nfc: tag not selected")
	}
	first := min(g.readChunk(), int(g.cc.MaxNDEFSize), maxFileOffset+1)
	b, err := Transmit(ctx, g.t, g.lim, ReadBinary(0, first))
	var st StatusError
	if first > 2 && errors.As(err, &st) {
		first = 2
		b, err = Transmit(ctx, g.t, g.lim, ReadBinary(0, first))
	}
	if err != nil {
		return nil, fmt.Errorf("reading NLEN: %w", err)
	}
	if len(b) < 2 || len(b) > first {
		return nil, fmt.Errorf("reading NLEN: %w: %d bytes for Le %d", ErrMalformedAPDU, len(b), first)
	}
	nlen := int(b[0])<<8 | int(b[1])
	if nlen == 0 {
		return []byte{}, nil
	}
	if nlen > int(g.cc.MaxNDEFSize)-2 || nlen+2 > maxFileOffset+1 {
		return nil, fmt.Errorf("reading NLEN: %w: NLEN %d exceeds the file size %d", ErrMalformedNDEF, nlen, g.cc.MaxNDEFSize)
	}
	msg := make([]byte, 0, nlen)
	msg = append(msg, b[2:min(len(b), 2+nlen)]...)
	chunk := g.readChunk()
	for len(msg) < nlen {
		n := min(chunk, nlen-len(msg))
		b, err := Transmit(ctx, g.t, g.lim, ReadBinary(2+len(msg), n))
		if err != nil {
			return nil, fmt.Errorf("reading ndef message at %d: %w", len(msg), err)
		}
		if len(b) == 0 || len(b) > n {
			return nil, fmt.Errorf("reading ndef message at %d: %w: %d bytes for Le %d", len(msg), ErrMalformedAPDU, len(b), n)
		}
		msg = append(msg, b...)
	}
	return msg, nil
}

// WriteNDEF writes msg to the NDEF file (T4T clause 7.5.5): when NLEN and
// the message fit one UPDATE BINARY (within MLc and the reader limit) it is
// a single command at offset 0; otherwise NLEN 0000, then the message at
// offset 2.. in pieces of at most min(MLc, reader limit), then NLEN.
func (g *Tag) WriteNDEF(ctx context.Context, msg []byte) error {
	if !g.ok {
		return errors.New("nfc: tag not selected")
	}
	if g.cc.WriteAccess != 0x00 {
		return ErrReadOnly
	}
	if len(msg)+2 > int(g.cc.MaxNDEFSize) || len(msg)+2 > maxFileOffset+1 {
		return fmt.Errorf("writing ndef message: %w: %d bytes exceed the file size %d", ErrWrongLength, len(msg), g.cc.MaxNDEFSize)
	}
	nlen := []byte{byte(len(msg) >> 8), byte(len(msg))}
	chunk := g.writeChunk()
	if len(msg)+2 <= chunk {
		if _, err := Transmit(ctx, g.t, g.lim, UpdateBinary(0, append(nlen, msg...))); err != nil {
			return fmt.Errorf("writing ndef message: %w", err)
		}
		return nil
	}
	if _, err := Transmit(ctx, g.t, g.lim, UpdateBinary(0, []byte{0, 0})); err != nil {
		return fmt.Errorf("clearing NLEN: %w", err)
	}
	for off := 0; off < len(msg); off += chunk {
		end := min(off+chunk, len(msg))
		if _, err := Transmit(ctx, g.t, g.lim, UpdateBinary(2+off, msg[off:end])); err != nil {
			return fmt.Errorf("writing ndef message at %d: %w", off, err)
		}
	}
	if _, err := Transmit(ctx, g.t, g.lim, UpdateBinary(0, nlen)); err != nil {
		return fmt.Errorf("writing NLEN: %w", err)
	}
	return nil
}
