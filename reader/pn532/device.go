package pn532

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idreader/idreader/reader"
)

// DeviceOptions configure the command layer.
type DeviceOptions struct {
	// AckTimeout is how long the host waits for the ACK of a command
	// before sending it again; zero means 100 ms. The chip acknowledges
	// within a millisecond or so of the end of the frame; the margin is
	// for the host's scheduler and, on the UART, the kernel's tty layer
	// (the time the frame itself takes on the wire is added). Too short a
	// timeout makes the host send a command twice, which Call allows only
	// for Resendable commands; for the others it waits Retries times as
	// long before it gives up. It is also the least time Call waits for a
	// response after the ACK.
	AckTimeout time.Duration
	// Retries is how often a command is sent before the chip is declared
	// silent, and how often a damaged response is asked for again; zero
	// means 3.
	Retries int
}

// BusStats count the traffic on the host bus.
type BusStats struct {
	// Frames counts the frames either way, ACK and NACK frames included.
	Frames int
	// Bytes counts the frame bytes either way (status bytes, SPI prefixes
	// and read padding excluded).
	Bytes int
	// Resends counts commands sent again and responses asked for again.
	Resends int
	// Aborts counts commands aborted with an ACK frame: no response in
	// time, or no ACK for a command that is not Resendable.
	Aborts int
	// Resyncs counts the communication line tests sent to drop frames
	// still in flight after a command sent twice or aborted.
	Resyncs int
}

// Device sends commands to a PN532 over a Transport (PN532 User Manual clause
// 6.2.1.6: command frame, ACK, response frame). Its methods are safe for
// concurrent use; commands run one at a time.
type Device struct {
	t    Transport
	opts DeviceOptions

	mu     sync.Mutex
	stats  BusStats
	unsure bool   // frames of an earlier command may still come: resync first
	token  uint16 // the last resync token
}

// NewDevice returns the command layer over t.
func NewDevice(t Transport, opts DeviceOptions) *Device {
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 100 * time.Millisecond
	}
	if opts.Retries <= 0 {
		opts.Retries = 3
	}
	return &Device{t: t, opts: opts}
}

// Transport returns the transport the device was made with.
func (d *Device) Transport() Transport { return d.t }

// Stats returns the bus traffic so far.
func (d *Device) Stats() BusStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *Device) write(ctx context.Context, frame []byte) error {
	d.stats.Frames++
	d.stats.Bytes += len(frame)
	return d.t.WriteFrame(ctx, frame)
}

func (d *Device) read(ctx context.Context, max int) (Frame, error) {
	f, err := d.t.ReadFrame(ctx, max)
	if err == nil {
		d.stats.Frames++
		d.stats.Bytes += frameLen(f)
	}
	return f, err
}

// frameLen is the length of f on the bus.
func frameLen(f Frame) int {
	switch f.Kind {
	case KindACK, KindNACK:
		return len(ackFrame)
	case KindError:
		return len(errFrame)
	}
	n := len(f.Data) + 1 + 7
	if f.Extended {
		n += 3
	}
	return n
}

// Wakeup wakes the chip up (Transport.Wakeup).
func (d *Device) Wakeup(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.t.Wakeup(ctx)
}

// wireTimer is a transport slow enough that the time a frame takes on the
// wire counts against the ACK timeout (the UART).
type wireTimer interface {
	wireTime(bytes int) time.Duration
}

// Resendable reports whether cmd may be sent again when its ACK does not
// come in time. The PN532 User Manual (clause 6.2.3) has the host resend a
// command whose ACK it misses, but a late ACK means the chip did receive it:
// a command sent again then runs twice (a new command frame aborts the one
// in progress, after it may already have reached the target). That is
// harmless for commands that only read or set the chip's state, and not for
// those that act on the air: InDataExchange (an APDU delivered twice, a
// chained response chunk lost), InListPassiveTarget and InPSL.
func Resendable(cmd byte) bool {
	switch cmd {
	case CmdGetFirmwareVersion, CmdSAMConfiguration, CmdRFConfiguration, CmdDiagnose, CmdInRelease:
		return true
	}
	return false
}

// ackResult is what came back while the host waited for an ACK.
type ackResult int

const (
	ackNone     ackResult = iota // nothing before the deadline, or a transport error
	ackOK                        // the ACK
	ackNACK                      // a NACK: the frame was refused, it did not run
	ackSyntax                    // the application-level error frame
	ackDamaged                   // a frame with a bad checksum: most likely the ACK
	ackResponse                  // the response itself: the ACK was lost
)

// awaitACK reads frames until the ACK, a NACK, the error frame, a damaged
// frame or the response to cmd (whose ACK was lost), or until ctx ends.
// Responses to other commands (late ones, to a command aborted or sent
// twice) are skipped.
func (d *Device) awaitACK(ctx context.Context, cmd byte, match func([]byte) bool) (ackResult, Frame, error) {
	for {
		// The UART hands over whole frames whatever max says; on I2C and
		// SPI the ACK always comes first.
		f, err := d.read(ctx, ackReadBytes)
		switch {
		case err != nil:
			if errors.Is(err, ErrChecksum) || errors.Is(err, ErrBadFrame) || errors.Is(err, ErrShortFrame) {
				return ackDamaged, Frame{}, err
			}
			return ackNone, Frame{}, err
		case f.Kind == KindACK:
			return ackOK, f, nil
		case f.Kind == KindNACK:
			return ackNACK, f, errors.New("pn532: chip answered with a NACK")
		case f.Kind == KindError:
			return ackSyntax, f, ErrSyntax
		case isResponse(f, cmd, match):
			return ackResponse, f, nil
		}
	}
}

// isResponse reports whether f answers cmd (and passes match, when set).
func isResponse(f Frame, cmd byte, match func([]byte) bool) bool {
	return f.Kind == KindInfo && f.TFI == TFIChip && len(f.Data) > 0 && f.Data[0] == cmd+1 &&
		(match == nil || match(f.Data[1:]))
}

// Call sends command cmd with params and returns the response parameters
// (after the response code), waiting at most timeout for the response.
//
// A command the chip refuses with a NACK is sent again, up to Retries
// times. A command whose ACK does not come within AckTimeout is sent again
// only when it is Resendable; then, after Retries tries, it fails with
// ErrNoACK. Any other command is never sent twice: the host waits Retries
// times AckTimeout for the late ACK (or the response, whose ACK was lost),
// and then aborts it with an ACK frame (clause 6.2.1.3) and fails with
// ErrUnacknowledged. A damaged response is asked for again with a NACK
// (clause 6.2.1.4). When the response does not come in time the command is
// aborted with an ACK and the error wraps reader.ErrTimeout. After a
// command that may have run twice or was aborted, the next Call first
// resynchronises with the chip (Diagnose communication line test with a
// fresh token, clause 7.2.1): frames still in flight are read and dropped
// until the token comes back. The status byte inside the response is the
// caller's to read.
func (d *Device) Call(ctx context.Context, timeout time.Duration, cmd byte, params []byte) ([]byte, error) {
	return d.call(ctx, timeout, cmd, params, nil)
}

func (d *Device) call(ctx context.Context, timeout time.Duration, cmd byte, params []byte, match func([]byte) bool) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.resync(ctx); err != nil {
		return nil, fmt.Errorf("pn532: command 0x%02X: %w", cmd, err)
	}
	return d.exchange(ctx, timeout, cmd, params, match)
}

// maxStale bounds the responses to earlier commands skipped while waiting
// for one: after commands sent twice or aborted a few may be on their way.
const maxStale = 8

// diagEcho is Diagnose test 0, the communication line test: the chip
// answers with the test number and the data it was sent (clause 7.2.1).
const diagEcho = 0x00

// resync runs while frames from an earlier command may still be on their
// way (d.unsure): it sends the communication line test with a fresh token
// and drops everything up to its echo. A resync that itself had to be sent
// again is followed by another one, Retries times at most.
func (d *Device) resync(ctx context.Context) error {
	for i := 0; d.unsure && i < d.opts.Retries; i++ {
		d.unsure = false
		d.token++
		d.stats.Resyncs++
		want := []byte{diagEcho, 'p', 'n', '5', '3', '2', byte(d.token >> 8), byte(d.token)}
		if _, err := d.exchange(ctx, localTimeout, CmdDiagnose, want, func(p []byte) bool { return bytes.Equal(p, want) }); err != nil {
			d.unsure = true
			return fmt.Errorf("resynchronising: %w", err)
		}
	}
	return nil
}

// abort sends the ACK frame that aborts the command in progress (clause
// 6.2.1.3); whatever the chip already sent is dropped by the next resync.
func (d *Device) abort() {
	_ = d.write(context.Background(), ackFrame)
	d.unsure = true
	d.stats.Aborts++
}

// exchange is one command: frame, ACK, response. d.mu is held.
func (d *Device) exchange(ctx context.Context, timeout time.Duration, cmd byte, params []byte, match func([]byte) bool) ([]byte, error) {
	frame, err := EncodeInfo(TFIHost, append([]byte{cmd}, params...))
	if err != nil {
		return nil, err
	}
	ackTimeout := d.opts.AckTimeout
	if w, ok := d.t.(wireTimer); ok {
		ackTimeout += w.wireTime(len(frame) + len(ackFrame))
	}
	resend := Resendable(cmd)
	if !resend {
		// Never sent twice: as long to wait for a late ACK as a resendable
		// command gets in all its tries.
		ackTimeout *= time.Duration(d.opts.Retries)
	}
	var (
		lastErr error
		result  ackResult
		early   Frame
	)
	for try := 0; try < d.opts.Retries; try++ {
		if try > 0 {
			d.stats.Resends++
		}
		if err := d.write(ctx, frame); err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			// A chip that is not there NAKs its address on I2C; wait as
			// for a missing ACK before trying again.
			if err := sleep(ctx, d.opts.AckTimeout); err != nil {
				break
			}
			continue
		}
		actx, cancel := context.WithTimeout(ctx, ackTimeout)
		result, early, lastErr = d.awaitACK(actx, cmd, match)
		cancel()
		if ctx.Err() != nil {
			break
		}
		switch result {
		case ackOK, ackResponse:
		case ackSyntax:
			return nil, fmt.Errorf("pn532: command 0x%02X: %w", cmd, ErrSyntax)
		case ackNACK:
			continue // refused unread: safe to send again
		case ackDamaged:
			if !resend {
				// Most likely the ACK: the response follows.
				result = ackOK
				break
			}
			d.unsure = true
			continue
		case ackNone:
			if !resend {
				d.abort()
				if ctx.Err() != nil {
					break
				}
				return nil, fmt.Errorf("pn532: command 0x%02X: %w within %v; aborted, not sent again", cmd, ErrUnacknowledged, ackTimeout)
			}
			// It may have arrived and its ACK be late: it may run twice.
			d.unsure = true
			continue
		}
		break
	}
	if ctx.Err() != nil {
		// The chip may have the command: abort it, and resync before the
		// next one.
		d.abort()
		return nil, reader.CtxErr(ctx, fmt.Sprintf("pn532: command 0x%02X", cmd))
	}
	switch result {
	case ackResponse:
		return early.Data[1:], nil
	case ackOK:
	default:
		return nil, fmt.Errorf("pn532: command 0x%02X: %w after %d tries: %w", cmd, ErrNoACK, d.opts.Retries, lastErr)
	}

	// Whatever delays the ACK (the host's scheduler, the tty layer) delays
	// the response as much.
	timeout = max(timeout, d.opts.AckTimeout)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for nacks, stale := 0, 0; ; {
		f, err := d.read(rctx, MaxFrameBytes)
		if err != nil {
			if rctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				// Abort the command so the chip takes the next one.
				d.abort()
				if ctx.Err() != nil {
					return nil, reader.CtxErr(ctx, fmt.Sprintf("pn532: waiting for the response to 0x%02X", cmd))
				}
				return nil, fmt.Errorf("pn532: no response to command 0x%02X within %v: %w", cmd, timeout, reader.ErrTimeout)
			}
			if errors.Is(err, ErrChecksum) || errors.Is(err, ErrBadFrame) || errors.Is(err, ErrShortFrame) {
				if nacks++; nacks > d.opts.Retries {
					d.abort()
					return nil, fmt.Errorf("pn532: response to 0x%02X: %w: %w", cmd, ErrResponse, err)
				}
				d.stats.Resends++
				if err := d.write(rctx, nackFrame); err != nil {
					d.unsure = true
					return nil, fmt.Errorf("pn532: asking for the response to 0x%02X again: %w", cmd, err)
				}
				continue
			}
			d.unsure = true
			return nil, fmt.Errorf("pn532: response to 0x%02X: %w", cmd, err)
		}
		switch {
		case f.Kind == KindError:
			return nil, fmt.Errorf("pn532: command 0x%02X: %w", cmd, ErrSyntax)
		case f.Kind != KindInfo:
			continue // the ACK of a command sent twice
		case f.TFI != TFIChip || len(f.Data) == 0:
			d.abort()
			return nil, fmt.Errorf("pn532: response % X to command 0x%02X: %w", f.Data, cmd, ErrResponse)
		case !isResponse(f, cmd, match):
			// A late response to an earlier command (one sent again
			// after its ACK came late); the right one follows.
			if stale++; stale > maxStale {
				d.abort()
				return nil, fmt.Errorf("pn532: response % X to command 0x%02X: %w", f.Data, cmd, ErrResponse)
			}
			continue
		}
		return f.Data[1:], nil
	}
}
