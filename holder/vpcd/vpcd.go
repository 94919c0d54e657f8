package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// DefaultAddr is the address of vpcd's first slot with the Debian package's
// /etc/reader.conf.d/vpcd (CHANNELID 0x8C7B = 35963). The second slot is
// port 35964.
const DefaultAddr = "127.0.0.1:35963"

// ATR is the answer-to-reset the card reports: PC/SC part 3 clause
// 3.1.3.2.3's ATR of an ISO/IEC 14443-4 card without historical bytes,
// which is what a reader shows for a phone.
//
//	3B  TS, direct convention
//	80  T0: TD1 present, no historical bytes
//	80  TD1: TD2 present, protocol T=0
//	01  TD2: protocol T=1
//	01  TCK, XOR of T0..TD2
var ATR = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

// Control messages from vpcd (1-byte payloads).
const (
	ctrlOff   = 0x00 // power off: the field dropped
	ctrlOn    = 0x01 // power on
	ctrlReset = 0x02 // warm reset
	ctrlATR   = 0x04 // get ATR (also pcscd's presence poll, ~2.5 per second)
)

// maxFrame is the largest payload the 2-byte length can carry.
const maxFrame = 0xFFFF

// ErrDisconnected reports that vpcd closed the connection: pcscd stopped, or
// vpcd ejected the card (it does so after a command longer than 65535 bytes).
var ErrDisconnected = errors.New("vpcd: connection closed by the reader")

// Card is the simulated card behind the reader. Its methods are called from
// one goroutine, in the order vpcd's messages arrive.
type Card interface {
	// PowerOn is called when the reader powers the card (the field comes up
	// for a session).
	PowerOn()
	// PowerOff is called when the reader powers the card off and when the
	// card leaves the field: the card must forget its session state, as a
	// phone does when the field drops.
	PowerOff()
	// Reset is called on a warm reset; the card must forget its session
	// state.
	Reset()
	// Transmit returns the response APDU (data and SW1 SW2, at most 65535
	// bytes) for one command APDU. The card must not keep apdu. A nil
	// response takes the card out of the field at once, without answering
	// (a phone pulled away mid-exchange).
	Transmit(apdu []byte) []byte
}

// Serve keeps card in the field of the vpcd slot at addr until ctx ends,
// then returns nil. When the connection drops (pcscd restarted, the card
// ejected) or cannot be made yet (pcscd not running: connection refused),
// Serve redials every 100 ms. Errors other than those end Serve.
func Serve(ctx context.Context, addr string, card Card) error {
	for ctx.Err() == nil {
		err := Tap(ctx, addr, card)
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil, errors.Is(err, ErrDisconnected):
		default:
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(redialDelay):
		}
	}
	return nil
}

const redialDelay = 100 * time.Millisecond

// Tap is one tap: it puts card in the field of the vpcd slot at addr
// (redialling while the connection is refused), serves vpcd's messages until
// ctx ends, then takes the card out of the field (closes the connection) and
// returns nil. To end the tap from inside the card, after its last response,
// cancel ctx from Transmit: the response is still delivered. Tap returns
// ErrDisconnected when vpcd closes the connection first, and an error
// wrapping ctx's error when ctx ends before the card got into the field.
func Tap(ctx context.Context, addr string, card Card) error {
	c, err := Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Serve(ctx, card)
}

// Conn is a card's connection to one vpcd slot: the card is in the field
// while the Conn is open.
type Conn struct {
	nc  net.Conn
	raw syscall.RawConn
	buf []byte
	out []byte
}

// Dial connects to the vpcd slot at addr, retrying every 100 ms while the
// connection is refused (pcscd not started yet, or restarting), until ctx
// ends.
func Dial(ctx context.Context, addr string) (*Conn, error) {
	var d net.Dialer
	for {
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return newConn(nc), nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("vpcd: dialing %s: %w", addr, ctx.Err())
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("vpcd: dialing %s: %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("vpcd: dialing %s: %w", addr, ctx.Err())
		case <-time.After(redialDelay):
		}
	}
}

func newConn(nc net.Conn) *Conn {
	c := &Conn{nc: nc, buf: make([]byte, 2+maxFrame), out: make([]byte, 0, 2+256)}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c
}

// Close takes the card out of the field.
func (c *Conn) Close() error { return c.nc.Close() }

// Serve answers vpcd's messages with card until ctx ends (it returns nil),
// vpcd closes the connection (ErrDisconnected) or the card leaves by
// returning a nil response (nil). It calls card.PowerOff before returning:
// leaving the field drops the card's session. Serve does not close c.
func (c *Conn) Serve(ctx context.Context, card Card) error {
	stop := context.AfterFunc(ctx, func() {
		// Unblock the read; a response being written still goes out.
		c.nc.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()
	defer card.PowerOff()
	for {
		msg, err := c.read()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if gone(err) {
				return ErrDisconnected
			}
			return fmt.Errorf("vpcd: reading: %w", err)
		}
		if len(msg) == 1 {
			switch msg[0] {
			case ctrlOff:
				card.PowerOff()
			case ctrlOn:
				card.PowerOn()
			case ctrlReset:
				card.Reset()
			case ctrlATR:
				if err := c.write(ATR); err != nil {
					return err
				}
			}
			// Unknown 1-byte messages get no answer, like the reference
			// implementation (virtualsmartcard's VirtualICC).
			continue
		}
		rapdu := card.Transmit(msg)
		if rapdu == nil {
			return nil
		}
		if len(rapdu) > maxFrame {
			return fmt.Errorf("vpcd: response of %d bytes exceeds the %d-byte frame", len(rapdu), maxFrame)
		}
		if err := c.write(rapdu); err != nil {
			return err
		}
	}
}

// read returns the next payload; it aliases c.buf until the next read.
func (c *Conn) read() ([]byte, error) {
	c.quickAck()
	if _, err := io.ReadFull(c.nc, c.buf[:2]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(c.buf[:2]))
	if n == 0 {
		return c.buf[2:2], nil
	}
	c.quickAck()
	if _, err := io.ReadFull(c.nc, c.buf[2:2+n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return c.buf[2 : 2+n], nil
}

// write sends one frame with a single Write, so Nagle's algorithm never
// holds back a payload behind its length.
func (c *Conn) write(p []byte) error {
	c.out = binary.BigEndian.AppendUint16(c.out[:0], uint16(len(p)))
	c.out = append(c.out, p...)
	if _, err := c.nc.Write(c.out); err != nil {
		if gone(err) {
			return ErrDisconnected
		}
		return fmt.Errorf("vpcd: writing: %w", err)
	}
	return nil
}

// gone reports errors that mean the reader closed the connection.
func gone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
