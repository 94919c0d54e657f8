package pn532

import (
	"context"
	"fmt"
	"time"
)

// Command codes, PN532 User Manual clause 7 (table 12). The response code
// is the command code plus one.
const (
	CmdDiagnose            = 0x00
	CmdGetFirmwareVersion  = 0x02
	CmdSAMConfiguration    = 0x14
	CmdRFConfiguration     = 0x32
	CmdInDataExchange      = 0x40
	CmdInPSL               = 0x4E
	CmdInListPassiveTarget = 0x4A
	CmdInRelease           = 0x52
)

// Parameters of the commands.
const (
	// diagPresence is Diagnose test 0x06, "Attention Request Test or
	// ISO/IEC 14443-4 card presence detection" (clause 7.2.1).
	diagPresence = 0x06
	// samNormal is SAMConfiguration mode 1, normal mode: no SAM (clause
	// 7.2.10); samTimeout is its virtual-card timeout in 50 ms units, not
	// used in normal mode; samIRQ asks for the P70_IRQ line.
	samNormal  = 0x01
	samTimeout = 0x14
	samIRQ     = 0x01
	// RFConfiguration items (clause 7.3.1).
	rfItemField      = 0x01 // RF field: bit 0 on, bit 1 auto RFCA
	rfItemTimings    = 0x02 // RFU, ATR_RES timeout, retry timeout
	rfItemMaxRetries = 0x05 // MxRtyATR, MxRtyPSL, MxRtyPassiveActivation
	// InListPassiveTarget BrTy (clause 7.3.5).
	brTy106A = 0x00
	brTy106B = 0x03
	// afiAll is the AFI of InListPassiveTarget for Type B: all families.
	afiAll = 0x00
	// tgMI is the MI bit of InDataExchange's Tg byte: more data follows
	// (clause 7.3.8).
	tgMI = 0x40
	// selResISODEP is bit 6 of SEL_RES (SAK): the target complies with
	// ISO/IEC 14443-4 (ISO/IEC 14443-3 clause 6.4.3.4).
	selResISODEP = 0x20
)

// Default command timeouts: local commands answer in milliseconds.
const (
	localTimeout = 200 * time.Millisecond
	listTimeout  = time.Second
)

// Firmware is the answer to GetFirmwareVersion (clause 7.2.2).
type Firmware struct {
	IC       byte // 0x32 for a PN532
	Version  byte
	Revision byte
	// Support is a bit set of the card families the firmware handles:
	// bit 0 ISO/IEC 14443 Type A, bit 1 Type B, bit 2 ISO 18092.
	Support byte
}

// String implements fmt.Stringer: "PN532 v1.6 (A B 18092)".
func (f Firmware) String() string {
	s := fmt.Sprintf("PN5%02X v%d.%d (", f.IC, f.Version, f.Revision)
	sep := ""
	for i, name := range []string{"A", "B", "18092"} {
		if f.Support&(1<<i) != 0 {
			s += sep + name
			sep = " "
		}
	}
	return s + ")"
}

// GetFirmwareVersion asks the chip who it is.
func (d *Device) GetFirmwareVersion(ctx context.Context) (Firmware, error) {
	p, err := d.Call(ctx, localTimeout, CmdGetFirmwareVersion, nil)
	if err != nil {
		return Firmware{}, fmt.Errorf("getting the firmware version: %w", err)
	}
	if len(p) != 4 {
		return Firmware{}, fmt.Errorf("getting the firmware version: %w: %d bytes", ErrResponse, len(p))
	}
	return Firmware{IC: p[0], Version: p[1], Revision: p[2], Support: p[3]}, nil
}

// SAMConfiguration puts the chip in normal mode (no SAM) with the IRQ line
// in use; it also takes the chip out of low-VBAT mode after power-up.
func (d *Device) SAMConfiguration(ctx context.Context) error {
	if _, err := d.Call(ctx, localTimeout, CmdSAMConfiguration, []byte{samNormal, samTimeout, samIRQ}); err != nil {
		return fmt.Errorf("configuring the SAM: %w", err)
	}
	return nil
}

// SetField switches the RF field on or off (RFConfiguration item 1, with
// auto RFCA off).
func (d *Device) SetField(ctx context.Context, on bool) error {
	v := byte(0)
	if on {
		v = 1
	}
	if _, err := d.Call(ctx, localTimeout, CmdRFConfiguration, []byte{rfItemField, v}); err != nil {
		return fmt.Errorf("switching the RF field: %w", err)
	}
	return nil
}

// SetMaxRetries sets the retries of ATR_REQ, PSL_REQ and passive
// activation (RFConfiguration item 5; 0xFF retries forever). Few passive
// activation retries make InListPassiveTarget come back at once when the
// field is empty.
func (d *Device) SetMaxRetries(ctx context.Context, atr, psl, passive byte) error {
	if _, err := d.Call(ctx, localTimeout, CmdRFConfiguration, []byte{rfItemMaxRetries, atr, psl, passive}); err != nil {
		return fmt.Errorf("setting the retries: %w", err)
	}
	return nil
}

// SetTimings sets the ATR_RES timeout and the retry timeout of
// InCommunicateThru/InDataExchange (RFConfiguration item 2; codes of
// clause 7.3.1, 0x0B is 102.4 ms, 0x0A 51.2 ms).
func (d *Device) SetTimings(ctx context.Context, atrRes, retry byte) error {
	if _, err := d.Call(ctx, localTimeout, CmdRFConfiguration, []byte{rfItemTimings, 0x00, atrRes, retry}); err != nil {
		return fmt.Errorf("setting the timings: %w", err)
	}
	return nil
}

// TargetType is the ISO/IEC 14443 type of a target.
type TargetType int

// Target types.
const (
	TypeA TargetType = iota + 1
	TypeB
)

func (t TargetType) String() string {
	if t == TypeB {
		return "ISO/IEC 14443 Type B"
	}
	return "ISO/IEC 14443 Type A"
}

// TargetInfo is what InListPassiveTarget reports about one target (clause
// 7.3.5).
type TargetInfo struct {
	Type TargetType
	// Tg is the logical number the chip gave the target.
	Tg byte
	// Type A: SENS_RES (ATQA), SEL_RES (SAK), NFCID1 (UID) and the ATS
	// the chip fetched with RATS (TL first), nil when SEL_RES says the
	// target is not ISO-DEP.
	SensRes [2]byte
	SelRes  byte
	UID     []byte
	ATS     []byte
	// Type B: ATQB (12 bytes, 0x50 first) and ATTRIB_RES.
	ATQB      []byte
	AttribRes []byte
}

// ISODEP reports whether the target speaks ISO/IEC 14443-4.
func (t *TargetInfo) ISODEP() bool {
	if t.Type == TypeB {
		return len(t.ATQB) == 12 && t.ATQB[10]&0x01 != 0 // protocol type: 14443-4 compliant
	}
	return t.SelRes&selResISODEP != 0 && len(t.ATS) > 0
}

// BitRates reports the bit rates both ways the target supports beyond 106
// kbit/s: TA(1) of the ATS for Type A (ISO/IEC 14443-4 clause 5.2.4), the
// bit rate capability of the ATQB protocol info for Type B (ISO/IEC
// 14443-3 clause 7.9.4.3). The same divisor must be supported both ways.
func (t *TargetInfo) BitRates() []BitRate {
	var ta byte
	switch {
	case t.Type == TypeB && len(t.ATQB) == 12:
		ta = t.ATQB[9]
	case t.Type == TypeA && len(t.ATS) >= 3 && t.ATS[0] >= 3 && t.ATS[1]&0x10 != 0:
		ta = t.ATS[2]
	}
	rates := []BitRate{Rate106}
	// b5/b1: DS=2 and DR=2; b6/b2: DS=4 and DR=4.
	if ta&0x10 != 0 && ta&0x01 != 0 {
		rates = append(rates, Rate212)
	}
	if ta&0x20 != 0 && ta&0x02 != 0 {
		rates = append(rates, Rate424)
	}
	return rates
}

// FSC is the largest frame the target takes, from FSCI in T0 of the ATS or
// in the ATQB protocol info (ISO/IEC 14443-4 clause 5.2.3).
func (t *TargetInfo) FSC() int {
	fsci := 2 // 32 bytes when the ATS omits T0
	switch {
	case t.Type == TypeB && len(t.ATQB) == 12:
		fsci = int(t.ATQB[10] >> 4)
	case len(t.ATS) >= 2 && t.ATS[0] >= 2:
		fsci = int(t.ATS[1] & 0x0F)
	}
	sizes := []int{16, 24, 32, 40, 48, 64, 96, 128, 256}
	return sizes[min(fsci, len(sizes)-1)]
}

// Historical returns the historical bytes of the ATS (Type A) or the
// application data and protocol info of the ATQB (Type B).
func (t *TargetInfo) Historical() []byte {
	if t.Type == TypeB {
		if len(t.ATQB) == 12 {
			return t.ATQB[5:12]
		}
		return nil
	}
	if len(t.ATS) < 2 || int(t.ATS[0]) > len(t.ATS) {
		return nil
	}
	i := 2
	for _, bit := range []byte{0x10, 0x20, 0x40} {
		if t.ATS[1]&bit != 0 {
			i++
		}
	}
	if i > int(t.ATS[0]) {
		return nil
	}
	return t.ATS[i:t.ATS[0]]
}

// ATR returns the ATR a PC/SC reader synthesises for the target (PC/SC part
// 3 clause 3.1.3.2.3): 3B 8n 80 01, the historical bytes, and TCK.
func (t *TargetInfo) ATR() []byte {
	h := t.Historical()
	if len(h) > 15 {
		h = h[:15]
	}
	atr := append([]byte{0x3B, 0x80 | byte(len(h)), 0x80, 0x01}, h...)
	tck := byte(0)
	for _, b := range atr[1:] {
		tck ^= b
	}
	return append(atr, tck)
}

// InListPassiveTarget looks for one target at 106 kbit/s, Type A or Type
// B, and activates it (for an ISO-DEP Type A target the chip sends RATS
// itself). It returns nil, nil when the field is empty.
func (d *Device) InListPassiveTarget(ctx context.Context, typ TargetType) (*TargetInfo, error) {
	params := []byte{0x01, brTy106A}
	if typ == TypeB {
		params = []byte{0x01, brTy106B, afiAll}
	}
	p, err := d.Call(ctx, listTimeout, CmdInListPassiveTarget, params)
	if err != nil {
		return nil, fmt.Errorf("listing targets: %w", err)
	}
	t, err := parseTargetList(p, typ)
	if err != nil {
		return nil, fmt.Errorf("listing targets: %w", err)
	}
	return t, nil
}

// parseTargetList parses the response of InListPassiveTarget (NbTg and
// the target data, clause 7.3.5).
func parseTargetList(p []byte, typ TargetType) (*TargetInfo, error) {
	c := &cursor{b: p}
	nb, ok := c.byte()
	if !ok {
		return nil, fmt.Errorf("%w: empty target list", ErrResponse)
	}
	if nb == 0 {
		return nil, nil
	}
	t := &TargetInfo{Type: typ}
	if t.Tg, ok = c.byte(); !ok {
		return nil, fmt.Errorf("%w: truncated target data", ErrResponse)
	}
	if typ == TypeB {
		atqb, ok1 := c.bytes(12)
		n, ok2 := c.byte()
		attrib, ok3 := c.bytes(int(n))
		if !ok1 || !ok2 || !ok3 || atqb[0] != 0x50 {
			return nil, fmt.Errorf("%w: malformed Type B target data", ErrResponse)
		}
		t.ATQB, t.AttribRes = append([]byte(nil), atqb...), append([]byte(nil), attrib...)
		return t, nil
	}
	sens, ok1 := c.bytes(2)
	sel, ok2 := c.byte()
	n, ok3 := c.byte()
	uid, ok4 := c.bytes(int(n))
	if !ok1 || !ok2 || !ok3 || !ok4 || (n != 4 && n != 7 && n != 10) {
		return nil, fmt.Errorf("%w: malformed Type A target data", ErrResponse)
	}
	t.SensRes, t.SelRes, t.UID = [2]byte(sens), sel, append([]byte(nil), uid...)
	if sel&selResISODEP != 0 {
		tl, ok := c.byte()
		if ok {
			rest, ok := c.bytes(int(tl) - 1)
			if tl == 0 || !ok {
				return nil, fmt.Errorf("%w: truncated ATS", ErrResponse)
			}
			t.ATS = append([]byte{tl}, rest...)
		}
	}
	return t, nil
}

// InPSL changes the bit rate with the activated target tg, both ways (PPS
// for ISO-DEP, clause 7.3.4). A refusal is a Status error.
func (d *Device) InPSL(ctx context.Context, tg byte, rate BitRate) error {
	p, err := d.Call(ctx, localTimeout, CmdInPSL, []byte{tg, rate.pslCode(), rate.pslCode()})
	if err == nil && len(p) != 1 {
		err = fmt.Errorf("%w: %d bytes", ErrResponse, len(p))
	}
	if err == nil {
		err = statusErr(p[0])
	}
	if err != nil {
		return fmt.Errorf("raising the bit rate to %v: %w", rate, err)
	}
	return nil
}

// InDataExchange sends data (at most MaxData bytes) to target tg and
// returns what came back. more sets the MI bit: the data continues in the
// next call, and the chip answers with an empty response. The returned
// more reports the MI bit of the response: the host fetches the rest with
// another call carrying no data.
func (d *Device) InDataExchange(ctx context.Context, timeout time.Duration, tg byte, data []byte, more bool) ([]byte, bool, error) {
	if len(data) > MaxData {
		return nil, false, fmt.Errorf("pn532: %d bytes exceed the %d of one InDataExchange", len(data), MaxData)
	}
	if more {
		tg |= tgMI
	}
	p, err := d.Call(ctx, timeout, CmdInDataExchange, append([]byte{tg}, data...))
	if err != nil {
		return nil, false, fmt.Errorf("exchanging data: %w", err)
	}
	if len(p) == 0 {
		return nil, false, fmt.Errorf("exchanging data: %w: no status byte", ErrResponse)
	}
	if err := statusErr(p[0]); err != nil {
		return nil, false, fmt.Errorf("exchanging data: %w", err)
	}
	return p[1:], p[0]&statusMI != 0, nil
}

// Present reports whether the activated ISO-DEP target is still in the
// field (Diagnose test 6: the chip sends it an R(NAK) or S(WTX) and
// waits for the answer).
func (d *Device) Present(ctx context.Context) (bool, error) {
	// The presence result is one status byte; a longer Diagnose response
	// is a late echo of a resync.
	p, err := d.call(ctx, localTimeout, CmdDiagnose, []byte{diagPresence}, func(p []byte) bool { return len(p) == 1 })
	if err != nil {
		return false, fmt.Errorf("checking presence: %w", err)
	}
	if len(p) != 1 {
		return false, fmt.Errorf("checking presence: %w: %d bytes", ErrResponse, len(p))
	}
	return p[0]&statusMask == 0, nil
}

// InRelease releases target tg (0 for all targets): DESELECT for ISO-DEP.
func (d *Device) InRelease(ctx context.Context, tg byte) error {
	p, err := d.Call(ctx, localTimeout, CmdInRelease, []byte{tg})
	if err == nil && len(p) != 1 {
		err = fmt.Errorf("%w: %d bytes", ErrResponse, len(p))
	}
	if err == nil {
		err = statusErr(p[0])
	}
	if err != nil {
		return fmt.Errorf("releasing the target: %w", err)
	}
	return nil
}
