package terminal

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"time"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
)

// ReplayConfig returns cfg set up to run a recorded NFC tap again against
// its APDU transcript: the recorded EReaderKey and DeviceRequest, the
// recorded Handover Request's collision-resolution number as the only
// randomness, NFC data transfer only and no T_wait. The DeviceRequest is
// encrypted with the session's counter-based IVs (ISO/IEC 18013-5 clause
// 9.1.1.5), so the terminal sends byte for byte what it sent when the tap
// was recorded, and a strict replay of the transcript proves the recording
// consistent. cfg keeps its Trust, Now and Limits (they must be the
// recording's limits).
func ReplayConfig(cfg Config, ev *Evidence) (Config, error) {
	if ev == nil || ev.ReaderKey == nil || len(ev.DeviceRequest) == 0 || len(ev.SessionTranscript) == 0 {
		return Config{}, errors.New("terminal: replay needs the EReaderKey, the DeviceRequest and the SessionTranscript")
	}
	st, err := session.ParseSessionTranscript(ev.SessionTranscript)
	if err != nil {
		return Config{}, fmt.Errorf("reading recorded transcript: %w", err)
	}
	_, hr, ok := st.Handover.NFC()
	if !ok {
		return Config{}, errors.New("terminal: the recorded tap has no NFC handover")
	}
	cr := []byte{0, 0}
	if hr != nil {
		req, err := nfc.ParseHandoverRequest(hr)
		if err != nil {
			return Config{}, fmt.Errorf("reading recorded handover request: %w", err)
		}
		cr = []byte{byte(req.CollisionResolution >> 8), byte(req.CollisionResolution)}
	}
	key := ev.ReaderKey
	cfg.Rand = bytes.NewReader(cr)
	cfg.EphemeralKey = func(*mdoc.DeviceEngagement) (*ecdh.PrivateKey, error) { return key, nil }
	cfg.DeviceRequest = ev.DeviceRequest
	cfg.ReaderAuth = nil
	cfg.Transports = []Transport{TransportNFC}
	cfg.BLE = BLEConfig{}
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return cfg, nil
}
