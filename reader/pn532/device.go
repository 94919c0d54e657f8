package pn532

import (
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
	// timeout makes the host send a command twice.
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
}

// Device sends commands to a PN532 over a Transport (PN532 User Manual clause
// 6.2.1.6: command frame, ACK, response frame). Its methods are safe for
// concurrent use; commands run one at a time.
type Device struct {
	t    Transport
	opts DeviceOptions

	mu    sync.Mutex
	stats BusStats
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

// awaitACK reads frames until the ACK, a NACK or the error frame, or until
// ctx ends. Late responses to earlier commands are skipped.
func (d *Device) awaitACK(ctx context.Context) (acked bool, lastErr, syntax error) {
	for {
		f, err := d.read(ctx, ackReadBytes)
		switch {
		case err != nil:
			return false, err, nil
		case f.Kind == KindACK:
			return true, nil, nil
		case f.Kind == KindNACK:
			return false, errors.New("pn532: chip answered with a NACK"), nil
		case f.Kind == KindError:
			return false, nil, ErrSyntax
		}
	}
}

// Call sends command cmd with params and returns the response parameters
// (after the response code), waiting at most timeout for the response.
//
// A command that is not acknowledged (no ACK within AckTimeout, a NACK, a
// damaged ACK) is sent again, up to Retries times, and then fails with
// ErrNoACK. A damaged response is asked for again with a NACK (clause
// 6.2.1.4). When the response does not come in time the command is aborted
// with an ACK (clause 6.2.1.3) and the error wraps reader.ErrTimeout. The
// status byte inside the response is the caller's to read.
func (d *Device) Call(ctx context.Context, timeout time.Duration, cmd byte, params []byte) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	frame, err := EncodeInfo(TFIHost, append([]byte{cmd}, params...))
	if err != nil {
		return nil, err
	}
	var lastErr error
	acked := false
	for try := 0; try < d.opts.Retries && !acked; try++ {
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
		ackTimeout := d.opts.AckTimeout
		if w, ok := d.t.(wireTimer); ok {
			ackTimeout += w.wireTime(len(frame) + len(ackFrame))
		}
		actx, cancel := context.WithTimeout(ctx, ackTimeout)
		var synErr error
		acked, lastErr, synErr = d.awaitACK(actx)
		cancel()
		if synErr != nil {
			return nil, fmt.Errorf("pn532: command 0x%02X: %w", cmd, synErr)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return nil, reader.CtxErr(ctx, fmt.Sprintf("pn532: command 0x%02X", cmd))
	}
	if !acked {
		return nil, fmt.Errorf("pn532: command 0x%02X: %w after %d tries: %w", cmd, ErrNoACK, d.opts.Retries, lastErr)
	}

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for nacks, stale := 0, 0; ; {
		f, err := d.read(rctx, MaxFrameBytes)
		if err != nil {
			if rctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				// Abort the command so the chip takes the next one.
				_ = d.write(context.Background(), ackFrame)
				if ctx.Err() != nil {
					return nil, reader.CtxErr(ctx, fmt.Sprintf("pn532: waiting for the response to 0x%02X", cmd))
				}
				return nil, fmt.Errorf("pn532: no response to command 0x%02X within %v: %w", cmd, timeout, reader.ErrTimeout)
			}
			if errors.Is(err, ErrChecksum) || errors.Is(err, ErrBadFrame) || errors.Is(err, ErrShortFrame) {
				if nacks++; nacks > d.opts.Retries {
					return nil, fmt.Errorf("pn532: response to 0x%02X: %w: %w", cmd, ErrResponse, err)
				}
				d.stats.Resends++
				if err := d.write(rctx, nackFrame); err != nil {
					return nil, fmt.Errorf("pn532: asking for the response to 0x%02X again: %w", cmd, err)
				}
				continue
			}
			return nil, fmt.Errorf("pn532: response to 0x%02X: %w", cmd, err)
		}
		switch {
		case f.Kind == KindError:
			return nil, fmt.Errorf("pn532: command 0x%02X: %w", cmd, ErrSyntax)
		case f.Kind != KindInfo:
			continue // the ACK of a command sent twice
		case f.TFI != TFIChip || len(f.Data) == 0:
			return nil, fmt.Errorf("pn532: response % X to command 0x%02X: %w", f.Data, cmd, ErrResponse)
		case f.Data[0] != cmd+1:
			// A late response to an earlier command (one sent again
			// after its ACK came late); the right one follows.
			if stale++; stale > d.opts.Retries {
				return nil, fmt.Errorf("pn532: response % X to command 0x%02X: %w", f.Data, cmd, ErrResponse)
			}
			continue
		}
		return f.Data[1:], nil
	}
}
