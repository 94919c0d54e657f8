package pn532test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader/pn532"
)

// Card is what can be put in the emulated field. *wallet.Wallet (package
// holder/wallet) is one.
type Card interface {
	// Transceiver returns the card's in-process APDU interface.
	Transceiver() nfc.Transceiver
	// PowerOn and PowerOff are the field coming up and dropping.
	PowerOn()
	PowerOff()
}

// Options configure the emulated chip and the target it reports.
type Options struct {
	// Firmware is the answer to GetFirmwareVersion; zero means a PN532
	// v1.6 supporting Type A, Type B and ISO 18092 (32 01 06 07).
	Firmware [4]byte
	// TypeB makes the card answer as an ISO/IEC 14443 Type B target.
	TypeB bool
	// UID is the Type A NFCID1; empty means a random-looking single-size
	// UID as phones use (08 xx xx xx).
	UID []byte
	// ATS is the Type A answer to RATS; empty means DefaultATS.
	ATS []byte
	// ATQB is the Type B ATQB; empty means DefaultATQB.
	ATQB []byte
}

// DefaultATS is the ATS of the emulated phone: TL 5, T0 78 (TA, TB and TC
// present, FSC 256), TA 33 (DS and DR 2 and 4: 212 and 424 kbit/s both
// ways), TB 80 (FWI 8), TC 02 (CID supported).
var DefaultATS = []byte{0x05, 0x78, 0x33, 0x80, 0x02}

// DefaultATQB is the ATQB of the emulated Type B card: 50, PUPI, application
// data, and protocol info 33 (212 and 424 kbit/s both ways), 81 (FSC 256,
// ISO/IEC 14443-4), 81 (FWI 8).
var DefaultATQB = []byte{0x50, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0x33, 0x81, 0x81}

// Stats count what the emulated chip saw.
type Stats struct {
	// Frames counts the frames on the host bus, both ways.
	Frames int
	// Commands counts the command frames the chip acted on.
	Commands int
	// Ignored counts the command frames it ignored (faults, silence).
	Ignored int
	// APDUs counts the APDUs carried to the card.
	APDUs int
	// AirBytes models the bytes on the air for them (pn532.AirBytes).
	AirBytes int
	// BitRate is the bit rate with the current or last target.
	BitRate pn532.BitRate
	// Resets counts resets through the reset line.
	Resets int
}

// Chip is the emulated PN532. Its methods are safe for concurrent use.
type Chip struct {
	opts Options

	mu      sync.Mutex
	card    Card
	present bool
	field   bool
	powered bool
	active  bool
	rate    pn532.BitRate
	in      []byte   // host bytes not yet parsed (UART)
	out     [][]byte // frames waiting for the host
	last    []byte   // the last response, sent again on a NACK
	gen     int      // command generation; an abort bumps it
	cancel  context.CancelFunc
	silent  int // command frames still to ignore; -1 until reset
	faults  []armed
	chainIn []byte // MI-chained command data from the host
	rest    []byte // response data still to be fetched with MI
	stats   Stats
	notify  chan struct{}
	irq     chan struct{} // signalled when a frame becomes ready
	// corrupt damages the DCS of the next response (FaultBadChecksum).
	corrupt bool
	// lateACK is the delay of the armed FaultLateACK.
	lateACK time.Duration
}

// New returns an emulated chip with an empty field, its RF field off.
func New(opts Options) *Chip {
	if opts.Firmware == [4]byte{} {
		opts.Firmware = [4]byte{0x32, 0x01, 0x06, 0x07}
	}
	if len(opts.UID) == 0 {
		opts.UID = []byte{0x08, 0x5A, 0x1C, 0x93}
	}
	if len(opts.ATS) == 0 {
		opts.ATS = DefaultATS
	}
	if len(opts.ATQB) == 0 {
		opts.ATQB = DefaultATQB
	}
	return &Chip{opts: opts, rate: pn532.Rate106, notify: make(chan struct{}, 1), irq: make(chan struct{}, 1)}
}

// Put brings card into the field. The chip powers it when the field is on
// and it activates it.
func (c *Chip) Put(card Card) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropCardLocked()
	c.card, c.present = card, true
}

// Remove takes the card out of the field.
func (c *Chip) Remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropCardLocked()
}

func (c *Chip) dropCardLocked() {
	if c.card != nil && c.powered {
		c.card.PowerOff()
	}
	c.card, c.present, c.powered, c.active = nil, false, false, false
	c.chainIn, c.rest = nil, nil
}

// Stats returns the counts so far.
func (c *Chip) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Reset is a pulse on the chip's reset line: whatever it was doing is
// dropped, a silence ends, the field goes off.
func (c *Chip) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Resets++
	c.gen++
	if c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	c.in, c.out, c.last = nil, nil, nil
	c.silent = 0
	c.setFieldLocked(false)
}

func (c *Chip) setFieldLocked(on bool) {
	c.field = on
	if !on {
		if c.powered && c.card != nil {
			c.card.PowerOff()
		}
		c.powered, c.active = false, false
		c.chainIn, c.rest = nil, nil
	}
}

// push queues a frame for the host and signals the stream writer.
func (c *Chip) pushLocked(frame []byte) {
	c.out = append(c.out, frame)
	c.stats.Frames++
	for _, ch := range []chan struct{}{c.notify, c.irq} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// pop takes the next frame for the host, nil when there is none.
func (c *Chip) pop() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.out) == 0 {
		return nil
	}
	f := c.out[0]
	c.out = c.out[1:]
	return f
}

// ready reports whether a frame waits for the host (the status byte).
func (c *Chip) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out) > 0
}

// fromHost takes bytes the host sent (a whole bus write, or a chunk of the
// UART stream) and acts on every complete frame in them.
func (c *Chip) fromHost(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in = append(c.in, b...)
	for len(c.in) > 0 {
		f, n, err := pn532.ParseFrame(c.in)
		if err != nil && n == 0 {
			if len(c.in) > 2*pn532.MaxFrameBytes {
				c.in = nil
			}
			return // wait for the rest of the frame
		}
		c.in = c.in[n:]
		if c.silent != 0 {
			if f.Kind == pn532.KindInfo {
				c.stats.Ignored++
				if c.silent > 0 {
					c.silent--
				}
			}
			continue
		}
		c.stats.Frames++
		if err != nil {
			c.pushLocked(pn532.NACKFrame())
			continue
		}
		switch f.Kind {
		case pn532.KindACK:
			// The host aborts the command in progress (clause 6.2.1.3).
			c.gen++
			if c.cancel != nil {
				c.cancel()
				c.cancel = nil
			}
			c.out = nil
		case pn532.KindNACK:
			if c.last != nil {
				c.pushLocked(c.last)
			}
		case pn532.KindInfo:
			if f.TFI == pn532.TFIHost {
				c.commandLocked(append([]byte(nil), f.Data...))
			}
		}
	}
}

// commandLocked acknowledges one command frame and runs it.
func (c *Chip) commandLocked(data []byte) {
	cmd := data[0]
	fault := c.triggerLocked(cmd)
	switch fault {
	case FaultNACK:
		c.stats.Ignored++
		c.pushLocked(pn532.NACKFrame())
		return
	case FaultNoACK, FaultSilent:
		c.stats.Ignored++
		return
	case FaultBadChecksum:
		c.corrupt = true
	}
	c.stats.Commands++
	if fault == FaultLateACK && cmd == pn532.CmdInDataExchange {
		c.lateACKLocked(data, c.lateACK)
		return
	}
	c.pushLocked(pn532.ACKFrame())
	// A new command aborts the one in progress (PN532 User Manual,
	// clause 6.2): its response is never sent, though what it already
	// sent to the target stays sent.
	if c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	c.gen++
	gen := c.gen
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if cmd != pn532.CmdInDataExchange {
		resp := c.executeLocked(cmd, data[1:], fault)
		c.respondLocked(gen, cmd, resp)
		return
	}
	// InDataExchange talks to the card, which may take its time: run it
	// outside the lock, as the chip's own CPU does while the host polls.
	go func() {
		resp := c.exchange(ctx, data[1:], fault)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.respondLocked(gen, cmd, resp)
	}()
}

// lateACKLocked runs InDataExchange with its ACK held back for delay, as
// a chip behind a noisy line or a host that is slow to read shows it.
func (c *Chip) lateACKLocked(data []byte, delay time.Duration) {
	if c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	c.gen++
	gen := c.gen
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		c.mu.Lock()
		if gen != c.gen {
			c.mu.Unlock()
			return
		}
		c.pushLocked(pn532.ACKFrame())
		c.mu.Unlock()
		resp := c.exchange(ctx, data[1:], 0)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.respondLocked(gen, pn532.CmdInDataExchange, resp)
	}()
}

// respondLocked queues the response to cmd unless it was aborted.
func (c *Chip) respondLocked(gen int, cmd byte, resp []byte) {
	if gen != c.gen {
		return
	}
	c.cancel = nil
	var frame []byte
	if resp == nil {
		frame = pn532.ErrorFrame()
	} else {
		var err error
		frame, err = pn532.EncodeInfo(pn532.TFIChip, append([]byte{cmd + 1}, resp...))
		if err != nil {
			frame = pn532.ErrorFrame()
		}
	}
	c.last = frame
	if c.corrupt {
		c.corrupt = false
		bad := append([]byte(nil), frame...)
		bad[len(bad)-2]++ // the DCS
		frame = bad
	}
	c.pushLocked(frame)
}

// executeLocked runs a command other than InDataExchange and returns its
// response parameters, nil for a syntax error.
func (c *Chip) executeLocked(cmd byte, p []byte, fault FaultKind) []byte {
	switch cmd {
	case pn532.CmdGetFirmwareVersion:
		return c.opts.Firmware[:]
	case pn532.CmdSAMConfiguration:
		if len(p) < 1 || p[0] < 1 || p[0] > 4 {
			return nil
		}
		return []byte{}
	case pn532.CmdRFConfiguration:
		if len(p) < 2 {
			return nil
		}
		if p[0] == 0x01 {
			c.setFieldLocked(p[1]&0x01 != 0)
		}
		return []byte{}
	case pn532.CmdInListPassiveTarget:
		return c.listLocked(p)
	case pn532.CmdInPSL:
		return c.pslLocked(p, fault == FaultRefusePSL)
	case pn532.CmdDiagnose:
		if len(p) >= 1 && p[0] == 0x00 {
			// Communication line test: the parameters come back.
			return append([]byte(nil), p...)
		}
		if len(p) < 1 || p[0] != 0x06 {
			return nil
		}
		if c.active && c.present {
			return []byte{0x00}
		}
		return []byte{byte(pn532.StatusTimeout)}
	case pn532.CmdInRelease:
		if len(p) != 1 {
			return nil
		}
		c.active = false
		c.chainIn, c.rest = nil, nil
		return []byte{0x00}
	}
	return nil
}

// listLocked answers InListPassiveTarget for one target at 106 kbit/s.
func (c *Chip) listLocked(p []byte) []byte {
	if len(p) < 2 || p[0] < 1 || p[0] > 2 {
		return nil
	}
	c.field = true
	typeB := p[1] == 0x03
	if (p[1] != 0x00 && !typeB) || !c.present || c.opts.TypeB != typeB {
		return []byte{0x00}
	}
	if !c.powered {
		c.card.PowerOn()
		c.powered = true
	}
	c.active, c.rate = true, pn532.Rate106
	c.stats.BitRate = c.rate
	c.chainIn, c.rest = nil, nil
	if typeB {
		// NbTg, Tg, ATQB, ATTRIB_RES length, ATTRIB_RES (MBLI 0, CID 0).
		return append(append([]byte{0x01, 0x01}, c.opts.ATQB...), 0x01, 0x00)
	}
	// NbTg, Tg, SENS_RES, SEL_RES (ISO-DEP), NFCID1 length, NFCID1, ATS.
	out := []byte{0x01, 0x01, 0x00, 0x04, 0x20, byte(len(c.opts.UID))}
	out = append(out, c.opts.UID...)
	return append(out, c.opts.ATS...)
}

// pslLocked answers InPSL: the target accepts the bit rates its ATS or
// ATQB lists, unless a fault refuses.
func (c *Chip) pslLocked(p []byte, refuse bool) []byte {
	if len(p) != 3 || p[1] > 2 || p[2] > 2 {
		return nil
	}
	if !c.active || !c.present {
		return []byte{byte(pn532.StatusContext)}
	}
	if refuse || p[1] != p[2] {
		return []byte{byte(pn532.StatusTimeout)}
	}
	info := &pn532.TargetInfo{Type: pn532.TypeA, SelRes: 0x20, ATS: c.opts.ATS}
	if c.opts.TypeB {
		info = &pn532.TargetInfo{Type: pn532.TypeB, ATQB: c.opts.ATQB}
	}
	want := []pn532.BitRate{pn532.Rate106, pn532.Rate212, pn532.Rate424}[p[1]]
	for _, r := range info.BitRates() {
		if r == want {
			c.rate = r
			c.stats.BitRate = r
			return []byte{0x00}
		}
	}
	return []byte{byte(pn532.StatusTimeout)}
}

// exchange answers InDataExchange: MI chaining from the host, APDUs to the
// card, responses beyond 262 bytes chained back with MI.
func (c *Chip) exchange(ctx context.Context, p []byte, fault FaultKind) []byte {
	c.mu.Lock()
	if len(p) < 1 || p[0]&0x3F != 0x01 {
		c.mu.Unlock()
		return []byte{byte(pn532.StatusInvalidParameter)}
	}
	if !c.active || !c.present {
		c.mu.Unlock()
		return []byte{byte(pn532.StatusTimeout)}
	}
	switch fault {
	case FaultTimeout:
		c.mu.Unlock()
		return []byte{byte(pn532.StatusTimeout)}
	case FaultLoseTarget:
		c.dropCardLocked()
		c.mu.Unlock()
		return []byte{byte(pn532.StatusTimeout)}
	}
	more, data := p[0]&0x40 != 0, p[1:]
	if more {
		c.chainIn = append(c.chainIn, data...)
		c.mu.Unlock()
		return []byte{0x00}
	}
	if len(data) == 0 && len(c.chainIn) == 0 && len(c.rest) > 0 {
		defer c.mu.Unlock()
		return c.sendLocked(c.rest)
	}
	apdu := append(c.chainIn, data...)
	c.chainIn = nil
	card := c.card
	fsc := 256
	c.mu.Unlock()

	resp, err := card.Transceiver().Transmit(ctx, apdu)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.APDUs++
	if err != nil || c.card != card {
		// A card that fails is mute, as a phone taken away is.
		return []byte{byte(pn532.StatusTimeout)}
	}
	c.stats.AirBytes += pn532.AirBytes(len(apdu), fsc) + pn532.AirBytes(len(resp), pn532.ModelFSD)
	return c.sendLocked(resp)
}

// sendLocked returns the next part of resp with the MI bit when more
// follows.
func (c *Chip) sendLocked(resp []byte) []byte {
	if len(resp) > pn532.MaxData {
		c.rest = append([]byte(nil), resp[pn532.MaxData:]...)
		return append([]byte{0x40}, resp[:pn532.MaxData]...)
	}
	c.rest = nil
	return append([]byte{0x00}, resp...)
}

// String names the chip.
func (c *Chip) String() string {
	return fmt.Sprintf("emulated PN5%02X v%d.%d", c.opts.Firmware[0], c.opts.Firmware[1], c.opts.Firmware[2])
}
