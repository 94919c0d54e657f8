package pn532

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/idreader/idreader/reader"
)

// Options configure a Reader.
type Options struct {
	// Name is the reader's name, e.g. "pn532:i2c:/dev/i2c-1"; empty means
	// "pn532 " and the transport's name.
	Name string
	// Device configures the command layer.
	Device DeviceOptions
	// Reset is the chip's RSTPDN line (active low) when it is wired; a
	// silent chip is reset with a pulse on it before it is configured
	// again.
	Reset gpio.PinOut
	// ResetPulse is how long Reset is held low; zero means 20 ms.
	ResetPulse time.Duration
	// MaxBitRate caps the bit rate negotiated with InPSL; zero means
	// Rate424, Rate106 never changes the bit rate.
	MaxBitRate BitRate
	// TypeB also polls for ISO/IEC 14443 Type B targets.
	TypeB bool
	// Extended lets the reader carry extended-length APDUs, chained over
	// several InDataExchange frames with the MI bit. Off, the reader
	// reports reader.ShortLimits: every short APDU fits one frame.
	Extended bool
	// PollInterval is the pause between polls of an empty field, with the
	// field off; zero means 100 ms.
	PollInterval time.Duration
	// ExchangeTimeout bounds one InDataExchange (the chip handles the
	// target's waiting time extensions meanwhile); zero means 5 s.
	ExchangeTimeout time.Duration
	// PresenceInterval is the pause between presence checks in
	// WaitRemoved; zero means 100 ms.
	PresenceInterval time.Duration
}

func (o *Options) defaults(t Transport) {
	if o.Name == "" {
		o.Name = "pn532 " + t.String()
	}
	if o.ResetPulse <= 0 {
		o.ResetPulse = 20 * time.Millisecond
	}
	if o.MaxBitRate == 0 {
		o.MaxBitRate = Rate424
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.ExchangeTimeout <= 0 {
		o.ExchangeTimeout = 5 * time.Second
	}
	if o.PresenceInterval <= 0 {
		o.PresenceInterval = 100 * time.Millisecond
	}
}

// Stats describe the traffic of a Reader since it was opened.
type Stats struct {
	// Bus is the traffic on the host bus.
	Bus BusStats
	// APDUBytes counts the command and response APDU bytes exchanged
	// with targets.
	APDUBytes int
	// AirBytes models the bytes on the air for those APDUs (AirBytes).
	AirBytes int
	// AirTime models their time on the air at the bit rates used.
	AirTime time.Duration
	// BitRate is the bit rate of the last target.
	BitRate BitRate
	// Resets counts the times the chip was reset or configured again
	// after it fell silent.
	Resets int
}

// Reader is a reader.Reader on a PN532. Wait and Target.WaitRemoved must
// not run at the same time (the reader contract); the chip serialises the
// rest.
type Reader struct {
	d    *Device
	opts Options
	fw   Firmware

	mu         sync.Mutex
	needInit   bool // the chip fell silent; configure it before the next command
	awaitLeave bool // a target was returned; none until the field was seen empty
	stats      Stats

	closed    chan struct{}
	closeOnce sync.Once
}

// New configures the chip behind t (wake-up, GetFirmwareVersion,
// SAMConfiguration, RFConfiguration, field off) and returns the Reader. An
// error wraps reader.ErrNoReader when the chip does not answer.
func New(ctx context.Context, t Transport, opts Options) (*Reader, error) {
	opts.defaults(t)
	r := &Reader{d: NewDevice(t, opts.Device), opts: opts, closed: make(chan struct{})}
	if err := r.init(ctx); err != nil {
		return nil, fmt.Errorf("pn532: opening %s: %w: %w", opts.Name, reader.ErrNoReader, err)
	}
	return r, nil
}

// init resets the chip when a reset line is wired, wakes it up and
// configures it.
func (r *Reader) init(ctx context.Context) error {
	if r.opts.Reset != nil {
		if err := r.opts.Reset.Out(gpio.Low); err != nil {
			return fmt.Errorf("pulling reset: %w", err)
		}
		if err := sleep(ctx, r.opts.ResetPulse); err != nil {
			return err
		}
		if err := r.opts.Reset.Out(gpio.High); err != nil {
			return fmt.Errorf("releasing reset: %w", err)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	if err := r.d.Wakeup(ctx); err != nil {
		return err
	}
	// SAMConfiguration first: it takes the C106 out of low-VBAT mode.
	if err := r.d.SAMConfiguration(ctx); err != nil {
		return err
	}
	fw, err := r.d.GetFirmwareVersion(ctx)
	if err != nil {
		return err
	}
	// ATR_RES timeout 102.4 ms, retry timeout 51.2 ms (the chip's
	// defaults, set so a chip left configured otherwise is not slower).
	if err := r.d.SetTimings(ctx, 0x0B, 0x0A); err != nil {
		return err
	}
	// Retry ATR forever, PSL once, passive activation twice: a poll of an
	// empty field comes back at once and the host decides when to poll
	// again.
	if err := r.d.SetMaxRetries(ctx, 0xFF, 0x01, 0x02); err != nil {
		return err
	}
	if err := r.d.SetField(ctx, false); err != nil {
		return err
	}
	r.mu.Lock()
	// A chip just configured has no target; whatever is in the field
	// next is a new arrival.
	r.fw, r.needInit, r.awaitLeave = fw, false, false
	r.mu.Unlock()
	return nil
}

// Name implements reader.Reader.
func (r *Reader) Name() string { return r.opts.Name }

// Limits implements reader.Reader: short APDUs, each in one frame, or
// extended APDUs chained with the MI bit when Options.Extended is set.
func (r *Reader) Limits() reader.Limits {
	if r.opts.Extended {
		return reader.ExtendedLimits(0, 0)
	}
	return reader.ShortLimits()
}

// Firmware returns what the chip reported at the last configuration.
func (r *Reader) Firmware() Firmware {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fw
}

// Device returns the command layer, for diagnostics.
func (r *Reader) Device() *Device { return r.d }

// Stats returns the traffic since the reader was opened.
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	s := r.stats
	r.mu.Unlock()
	s.Bus = r.d.Stats()
	return s
}

// Close implements reader.Reader: a blocked Wait returns reader.ErrClosed.
// The field is switched off; the transport stays open (its owner closes
// it).
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		close(r.closed)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = r.d.SetField(ctx, false) // best effort: the chip may be gone
	})
	return nil
}

func (r *Reader) isClosed() bool {
	select {
	case <-r.closed:
		return true
	default:
		return false
	}
}

// presenceTimeout bounds the presence check after an error on the air,
// which decides between removed and not: a second, or, when the ACK timeout
// is long, as long as a resync and a resendable command may take.
func (r *Reader) presenceTimeout() time.Duration {
	o := r.d.opts
	return max(time.Second, 2*time.Duration(o.Retries)*o.AckTimeout+localTimeout)
}

// silent reports whether err means the chip stopped answering: it did not
// acknowledge a command. A command acknowledged but not answered in time
// is aborted and reported as a timeout: the chip may be waiting on a slow
// target; if it is dead, the next command finds out.
func silent(err error) bool {
	return errors.Is(err, ErrNoACK)
}

// markSilent records that the chip must be configured again.
func (r *Reader) markSilent() {
	r.mu.Lock()
	r.needInit = true
	r.mu.Unlock()
}

// Wait implements reader.Reader: it polls the field (Type A, then Type B
// when enabled) with the field off between polls, activates the first
// ISO-DEP target, raises the bit rate when the target allows it, and
// returns the target. After a target was returned, none is returned until
// a poll found the field empty. A silent chip is reset and configured
// again; when that fails the error wraps reader.ErrNoReader, and the next
// Wait tries again.
func (r *Reader) Wait(ctx context.Context) (reader.Target, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(closedContext{r.closed}, cancel)
	defer stop()
	types := []TargetType{TypeA}
	if r.opts.TypeB {
		types = append(types, TypeB)
	}
	for {
		if r.isClosed() {
			return nil, fmt.Errorf("pn532: waiting for a target: %w", reader.ErrClosed)
		}
		if ctx.Err() != nil {
			r.fieldOff()
			return nil, reader.CtxErr(ctx, "pn532: waiting for a target")
		}
		r.mu.Lock()
		need := r.needInit
		r.mu.Unlock()
		if need {
			r.mu.Lock()
			r.stats.Resets++
			r.mu.Unlock()
			if err := r.init(wctx); err != nil {
				if r.isClosed() {
					continue
				}
				if ctx.Err() != nil {
					continue
				}
				return nil, fmt.Errorf("pn532: resetting the chip: %w: %w", reader.ErrNoReader, err)
			}
		}
		empty := true
		for _, typ := range types {
			info, err := r.d.InListPassiveTarget(wctx, typ)
			if err != nil {
				if wctx.Err() != nil {
					break
				}
				// A chip that answers nonsense is as good as silent.
				r.markSilent()
				empty = false
				break
			}
			if info == nil {
				continue
			}
			empty = false
			r.mu.Lock()
			waiting := r.awaitLeave
			r.mu.Unlock()
			if waiting || !info.ISODEP() {
				_ = r.d.InRelease(wctx, info.Tg)
				continue
			}
			t := r.activate(wctx, info)
			r.mu.Lock()
			r.awaitLeave = true
			r.mu.Unlock()
			return t, nil
		}
		if empty {
			r.mu.Lock()
			r.awaitLeave = false
			r.mu.Unlock()
		}
		r.fieldOff()
		t := time.NewTimer(r.opts.PollInterval)
		select {
		case <-t.C:
		case <-wctx.Done():
			t.Stop()
		}
	}
}

// fieldOff switches the field off, best effort (a failure shows at the next
// poll).
func (r *Reader) fieldOff() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.d.SetField(ctx, false); err != nil && silent(err) {
		r.markSilent()
	}
}

// activate raises the bit rate as far as the target and MaxBitRate allow;
// a refusal leaves it at 106 kbit/s.
func (r *Reader) activate(ctx context.Context, info *TargetInfo) *Target {
	t := &Target{r: r, info: info, rate: Rate106, limits: r.Limits(), atr: info.ATR(), gone: make(chan struct{})}
	rates := info.BitRates()
	slices.Reverse(rates)
	for _, rate := range rates {
		if rate == Rate106 || rate > r.opts.MaxBitRate {
			continue
		}
		if err := r.d.InPSL(ctx, info.Tg, rate); err == nil {
			t.rate = rate
			break
		} else if silent(err) {
			r.markSilent()
			break
		} else if errors.Is(err, ErrUnacknowledged) {
			// The target may or may not have changed its bit rate.
			r.markSilent()
			t.broken = true
			break
		}
	}
	r.mu.Lock()
	r.stats.BitRate = t.rate
	r.mu.Unlock()
	return t
}

// Target is an activated ISO-DEP target on a PN532.
type Target struct {
	r      *Reader
	info   *TargetInfo
	rate   BitRate
	limits reader.Limits
	atr    []byte

	mu      sync.Mutex
	closed  bool
	removed bool
	broken  bool // an exchange was aborted halfway; no more on this target
	gone    chan struct{}
}

func (t *Target) markBroken() {
	t.mu.Lock()
	t.broken = true
	t.mu.Unlock()
}

func (t *Target) isBroken() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.broken
}

// Info returns what the chip reported about the target.
func (t *Target) Info() *TargetInfo { return t.info }

// BitRate returns the bit rate in use with the target.
func (t *Target) BitRate() BitRate { return t.rate }

// ATR implements reader.Target: the ATR a PC/SC reader would synthesise.
func (t *Target) ATR() []byte { return t.atr }

// Limits implements reader.Target.
func (t *Target) Limits() reader.Limits { return t.limits }

func (t *Target) state() (closed, removed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed, t.removed
}

func (t *Target) markRemoved() {
	t.mu.Lock()
	if !t.removed {
		t.removed = true
		close(t.gone)
	}
	t.mu.Unlock()
}

// Transmit implements reader.Target: the APDU goes in one InDataExchange, or
// in MI-chained ones beyond MaxData bytes (Options.Extended), and a
// response the chip chains with MI is fetched in full. When the chip
// reports an error on the air and the target no longer answers a presence
// check, or when the chip falls silent, the error wraps reader.ErrRemoved.
func (t *Target) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	switch closed, removed := t.state(); {
	case closed:
		return nil, fmt.Errorf("pn532: transmit: %w", reader.ErrClosed)
	case removed:
		return nil, fmt.Errorf("pn532: transmit: %w", reader.ErrRemoved)
	}
	if t.isBroken() {
		return nil, fmt.Errorf("pn532: transmit: an earlier exchange left the target in an unknown state: %w", ErrUnacknowledged)
	}
	if err := t.limits.CheckCommand(apdu); err != nil {
		return nil, fmt.Errorf("pn532: transmit: %w", err)
	}
	resp, err := t.exchange(ctx, apdu)
	if err != nil {
		return nil, t.fail(ctx, err)
	}
	if t.limits.MaxResponse > 0 && len(resp) > t.limits.MaxResponse {
		return nil, fmt.Errorf("pn532: response of %d bytes exceeds the reader's %d: %w", len(resp), t.limits.MaxResponse, reader.ErrBadCommand)
	}
	r := t.r
	r.mu.Lock()
	r.stats.APDUBytes += len(apdu) + len(resp)
	r.stats.AirBytes += AirBytes(len(apdu), t.info.FSC()) + AirBytes(len(resp), ModelFSD)
	r.stats.AirTime += AirTime(len(apdu), t.info.FSC(), t.rate) + AirTime(len(resp), ModelFSD, t.rate)
	r.mu.Unlock()
	return resp, nil
}

// exchange carries apdu and its response, chaining with MI both ways. The
// chaining is checked as it goes: a chained command part is answered with
// an empty response, a chained response part is not empty, and the whole
// response carries SW1 SW2 and no more data than the command's Le asks
// for (ISO/IEC 7816-4 clause 5.1): a part lost or delivered twice shows
// here rather than as garbage in the layer above.
func (t *Target) exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	d, tg, timeout := t.r.d, t.info.Tg, t.r.opts.ExchangeTimeout
	ne, hasLe := expectedLength(apdu)
	for rest := apdu; ; {
		if len(rest) <= MaxData {
			apdu = rest
			break
		}
		part, more, err := d.InDataExchange(ctx, timeout, tg, rest[:MaxData], true)
		if err != nil {
			return nil, err
		}
		if len(part) != 0 || more {
			return nil, fmt.Errorf("pn532: %d bytes answered a chained command part: %w", len(part), ErrChain)
		}
		rest = rest[MaxData:]
	}
	resp, more, err := d.InDataExchange(ctx, timeout, tg, apdu, false)
	for err == nil && more {
		if len(resp) > reader.MaxExtendedResponse {
			return nil, fmt.Errorf("pn532: chained response beyond %d bytes: %w", reader.MaxExtendedResponse, ErrChain)
		}
		var part []byte
		part, more, err = d.InDataExchange(ctx, timeout, tg, nil, false)
		if err == nil && len(part) == 0 && more {
			return nil, fmt.Errorf("pn532: empty chained response part: %w", ErrChain)
		}
		resp = append(resp, part...)
	}
	if err != nil {
		return nil, err
	}
	if len(resp) < 2 {
		return nil, fmt.Errorf("pn532: %d-byte response without SW1 SW2: %w", len(resp), ErrChain)
	}
	if hasLe && len(resp)-2 > ne {
		return nil, fmt.Errorf("pn532: %d response data bytes, the command's Le allows %d: %w", len(resp)-2, ne, ErrChain)
	}
	return resp, nil
}

// expectedLength returns Ne, the most response data bytes the command APDU
// asks for, when it has an Le field (ISO/IEC 7816-4 clause 5.1: cases 2 and
// 4, short or extended; Le 00 means 256, or 65536 in the extended form).
func expectedLength(apdu []byte) (ne int, ok bool) {
	body := apdu[min(4, len(apdu)):]
	switch {
	case len(body) == 1: // case 2S
		return leValue(int(body[0]), 256), true
	case len(body) == 3 && body[0] == 0: // case 2E
		return leValue(int(body[1])<<8|int(body[2]), 65536), true
	case len(body) > 1 && body[0] != 0 && len(body) == 2+int(body[0]): // case 4S
		return leValue(int(body[len(body)-1]), 256), true
	case len(body) > 3 && body[0] == 0:
		lc := int(body[1])<<8 | int(body[2])
		if len(body) == 3+lc+2 { // case 4E
			return leValue(int(body[len(body)-2])<<8|int(body[len(body)-1]), 65536), true
		}
	}
	return 0, false
}

func leValue(le, zero int) int {
	if le == 0 {
		return zero
	}
	return le
}

// fail turns an exchange error into the reader vocabulary.
func (t *Target) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return reader.CtxErr(ctx, "pn532: transmit")
	}
	if silent(err) {
		t.r.markSilent()
		t.markRemoved()
		return fmt.Errorf("pn532: transmit: chip silent: %w: %w", reader.ErrRemoved, err)
	}
	if errors.Is(err, ErrUnacknowledged) || errors.Is(err, ErrChain) {
		// The command may have reached the target or not, a chained part
		// may be lost: the target's state is unknown. End the exchange
		// here, and configure the chip afresh before the next poll.
		t.r.markSilent()
		t.markBroken()
		return fmt.Errorf("pn532: transmit: %w", err)
	}
	var st Status
	if errors.As(err, &st) && st.RF() {
		pctx, cancel := context.WithTimeout(context.Background(), t.r.presenceTimeout())
		present, perr := t.r.d.Present(pctx)
		cancel()
		if perr != nil && silent(perr) {
			t.r.markSilent()
		}
		if perr != nil || !present {
			t.markRemoved()
			t.r.targetLeft()
			return fmt.Errorf("pn532: transmit: %w: %w", reader.ErrRemoved, err)
		}
	}
	return fmt.Errorf("pn532: transmit: %w", err)
}

// targetLeft records that the field was seen without the last target.
func (r *Reader) targetLeft() {
	r.mu.Lock()
	r.awaitLeave = false
	r.mu.Unlock()
}

// WaitRemoved implements reader.Target: it checks presence every
// PresenceInterval until the target no longer answers.
func (t *Target) WaitRemoved(ctx context.Context) error {
	for {
		if _, removed := t.state(); removed {
			return nil
		}
		present, err := t.r.d.Present(ctx)
		if ctx.Err() != nil {
			return reader.CtxErr(ctx, "pn532: waiting for removal")
		}
		if err != nil && silent(err) {
			t.r.markSilent()
		}
		if err != nil || !present {
			t.markRemoved()
			t.r.targetLeft()
			return nil
		}
		tm := time.NewTimer(t.r.opts.PresenceInterval)
		select {
		case <-tm.C:
		case <-t.gone:
			tm.Stop()
		case <-ctx.Done():
			tm.Stop()
			return reader.CtxErr(ctx, "pn532: waiting for removal")
		}
	}
}

// Close implements reader.Target: the target is released (DESELECT) and the
// field switched off. Transmit after Close returns reader.ErrClosed.
func (t *Target) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	removed := t.removed
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if !removed {
		if err := t.r.d.InRelease(ctx, t.info.Tg); err != nil && silent(err) {
			t.r.markSilent()
			return nil
		}
	}
	t.r.fieldOff()
	return nil
}

// closedContext adapts a channel closed on Close to context.AfterFunc.
type closedContext struct{ ch chan struct{} }

func (c closedContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c closedContext) Done() <-chan struct{}       { return c.ch }
func (c closedContext) Err() error {
	select {
	case <-c.ch:
		return context.Canceled
	default:
		return nil
	}
}
func (c closedContext) Value(any) any { return nil }

var (
	_ reader.Reader = (*Reader)(nil)
	_ reader.Target = (*Target)(nil)
)
