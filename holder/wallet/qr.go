package wallet

import (
	"errors"
	"fmt"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// errQRTap answers the APDUs of a tap that engaged by QR code.
var errQRTap = errors.New("wallet: this tap engaged by QR code; NFC is not offered")

// ShowQR starts a new tap engaged by QR code (ISO/IEC 18013-5 clause
// 8.2.2.3) and returns the text the wallet would show: "mdoc:" and the
// base64url DeviceEngagement. The engagement has a fresh EDeviceKey and one
// BLE retrieval method (key 2) in Config.BLEMode with a fresh service UUID:
// key 11 for mdoc central client mode (the UUID the reader advertises), key
// 10 for peripheral server mode (the UUID the wallet advertises). The
// session uses the QR handover (null, clause 9.1.5.1); ServeBLE then runs
// the data retrieval. Any tap in progress is forgotten, and the card answers
// APDUs with 6F00 until the next power cycle.
func (w *Wallet) ShowQR() (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s != nil {
		w.last = w.s.snapshot()
	}
	s := &tap{conversation: conversation{cfg: &w.cfg, report: Report{QR: true}}, setup: errQRTap}
	w.s = s
	if err := s.startQR(); err != nil {
		s.report.Err = err
		return "", err
	}
	w.announce(s)
	return s.de.QR(), nil
}

// startQR builds the QR engagement and the session of s.
func (s *conversation) startQR() error {
	u, err := s.newUUID()
	if err != nil {
		return err
	}
	mode := s.cfg.bleMode()
	opts := &mdoc.BLEOptions{}
	if mode == ble.ModeCentralClient {
		opts.CentralClientMode, opts.CentralClientUUID = true, u[:]
	} else {
		opts.PeripheralServerMode, opts.PeripheralServerUUID = true, u[:]
	}
	if err := s.newEngagement([]mdoc.RetrievalMethod{{Type: mdoc.RetrievalBLE, Version: 1, BLE: opts}}); err != nil {
		return err
	}
	dev, err := session.NewDevice(s.priv, s.de.Raw, session.QRHandover())
	if err != nil {
		return fmt.Errorf("wallet: preparing session: %w", err)
	}
	s.dev, s.est = dev, false
	s.ble, s.bleMode, s.bleUUID = true, mode, u
	return nil
}
