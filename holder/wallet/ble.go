package wallet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/nfc"
)

// BLECloseTimeout bounds the wallet's State 0x02 and disconnect at the end
// of a BLE session.
const BLECloseTimeout = 5 * time.Second

// newUUID draws a random (version 4, RFC 9562) BLE service UUID.
func (s *conversation) newUUID() (ble.UUID, error) {
	var u ble.UUID
	if _, err := io.ReadFull(s.cfg.Rand, u[:]); err != nil {
		return u, fmt.Errorf("wallet: drawing BLE UUID: %w", err)
	}
	u[6] = u[6]&0x0F | 0x40 // version 4
	u[8] = u[8]&0x3F | 0x80 // variant
	return u, nil
}

// bleAnswer decides whether the negotiated Handover Select selects BLE
// for the reader's BLE record r (ISO/IEC 18013-5 clause 8.2.2.3): the
// reader's LE role must allow the other side of the wallet's mode (a reader
// that can be peripheral for mdoc central client mode, central for
// peripheral server mode; no role allows both). In central client mode the
// reader's UUID is used (clause 8.3.3.1.1.2); readerUUID is nil when it gave
// none, and the wallet then puts its own in the Hs.
func (s *tap) bleAnswer(r *nfc.BLEOOB) (ok bool, readerUUID *[16]byte) {
	if !s.cfg.OfferBLE || r == nil {
		return false, nil
	}
	if s.cfg.bleMode() == ble.ModeCentralClient {
		if r.HasRole && r.Role == nfc.LERoleCentralOnly {
			return false, nil
		}
		if len(r.UUIDs) > 0 {
			u := r.UUIDs[0]
			return true, &u
		}
		return true, nil
	}
	if r.HasRole && r.Role == nfc.LERolePeripheralOnly {
		return false, nil
	}
	return true, nil
}

// announce hands a tap whose engagement selected BLE to ServeBLE, replacing
// one not picked up yet. It runs under w.mu.
func (w *Wallet) announce(s *tap) {
	select {
	case <-w.bleTaps:
	default:
	}
	w.bleTaps <- s
}

// ServeBLE runs the wallet's side of BLE data retrieval (ISO/IEC 18013-5
// clause 8.3.3.1.1) for the next engagement that selects BLE: an NFC
// engagement whose Handover Select carries the BLE record (Config.OfferBLE),
// or a QR engagement (ShowQR). It waits for that engagement, then connects
// in the engagement's mode: in mdoc central client mode it is the GATT
// client and dials the service UUID with c, reading and checking Ident; in
// peripheral server mode it is the GATT server and advertises with p. It
// answers the reader's messages with the same session and credential logic
// as NFC data transfer, until the reader ends the session (SessionData
// status 20 or State 0x02), then ends with State 0x02 and disconnects.
//
// Faults.Stall delays the response over BLE as over NFC; Faults.Vanish
// has no BLE equivalent (use the ble/memlink link's faults to break the
// link). The returned error is the reason the session ended early; the tap's
// report (Report) has the details.
func (w *Wallet) ServeBLE(ctx context.Context, c ble.Central, p ble.Peripheral) error {
	var s *tap
	select {
	case s = <-w.bleTaps:
	case <-ctx.Done():
		return fmt.Errorf("wallet: waiting for a BLE engagement: %w", ctx.Err())
	}
	err := w.serveBLE(ctx, s, c, p)
	w.mu.Lock()
	// A caller that stops waiting (the reader chose NFC) is not a failure
	// of the tap.
	if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		s.report.Err = err
	}
	done := s.snapshot()
	if w.s != s {
		w.last = done
	}
	w.mu.Unlock()
	if w.cfg.OnDone != nil {
		w.cfg.OnDone(done)
	}
	return err
}

func (w *Wallet) serveBLE(ctx context.Context, s *tap, c ble.Central, p ble.Peripheral) error {
	w.mu.Lock()
	cfg := ble.Config{Mode: s.bleMode, Service: s.bleUUID}
	var eDeviceKeyBytes []byte
	if s.de != nil {
		eDeviceKeyBytes = s.de.EDeviceKeyBytes.Raw
	}
	w.mu.Unlock()

	var (
		conn *ble.Conn
		err  error
	)
	switch cfg.Mode {
	case ble.ModeCentralClient:
		if c == nil {
			return errors.New("wallet: central client mode needs a BLE central")
		}
		if cfg.Ident, err = ble.Ident(eDeviceKeyBytes); err != nil {
			return fmt.Errorf("wallet: deriving BLE ident: %w", err)
		}
		conn, err = ble.Dial(ctx, c, cfg)
	case ble.ModePeripheralServer:
		if p == nil {
			return errors.New("wallet: peripheral server mode needs a BLE peripheral")
		}
		conn, err = ble.Serve(ctx, p, cfg)
	default:
		return fmt.Errorf("wallet: unknown BLE mode %d", int(cfg.Mode))
	}
	if err != nil {
		return fmt.Errorf("wallet: connecting over BLE: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), BLECloseTimeout)
		defer cancel()
		conn.Close(cctx) // the link may already be down; nothing depends on it
	}()
	w.mu.Lock()
	s.report.Transport, s.report.MTU = cfg.Mode.String(), conn.MTU()
	w.mu.Unlock()

	for {
		msg, err := conn.Receive(ctx)
		if errors.Is(err, ble.ErrSessionEnded) {
			// Transport-specific termination (clause 8.3.3.1.1.7).
			w.mu.Lock()
			s.report.Terminated = true
			w.mu.Unlock()
			return nil
		}
		if err != nil {
			return fmt.Errorf("wallet: receiving over BLE: %w", err)
		}
		w.mu.Lock()
		reply, kind := s.onMessage(msg)
		w.mu.Unlock()
		if kind == replyResponse && w.cfg.Faults.Stall > 0 {
			if err := w.stall(ctx, conn); err != nil {
				return fmt.Errorf("wallet: stalled answer abandoned: %w", err)
			}
		}
		if reply != nil {
			if err := conn.Send(ctx, reply); err != nil {
				return fmt.Errorf("wallet: sending over BLE: %w", err)
			}
		}
		switch kind {
		case replyResponse:
			if w.cfg.OnResponse != nil {
				w.mu.Lock()
				r := s.snapshot()
				w.mu.Unlock()
				w.cfg.OnResponse(r)
			}
		case replyFinal:
			return nil
		}
	}
}

// stall waits Faults.Stall before the response, and gives up when the
// reader ends the session or the link drops meanwhile (a message the reader
// sends during the stall is lost).
func (w *Wallet) stall(ctx context.Context, conn *ble.Conn) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan error, 1)
	go func() {
		_, err := conn.Receive(sctx)
		ended <- err
		cancel()
	}()
	err := w.cfg.Sleep(sctx, w.cfg.Faults.Stall)
	cancel()
	rerr := <-ended
	if err != nil && rerr != nil && !errors.Is(rerr, context.Canceled) {
		return rerr
	}
	return err
}
