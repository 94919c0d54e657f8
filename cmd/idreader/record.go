package main

import (
	"bytes"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader/apdulog"
	"github.com/idreader/idreader/terminal"
)

// The files of a tap recording (`idreader read --record DIR`), everything a
// third party needs to verify the tap again offline (`idreader replay DIR`).
const (
	recDeviceResponse    = "device_response.cbor"      // DeviceResponse as decrypted
	recSessionTranscript = "session_transcript.cbor"   // SessionTranscriptBytes (tag 24)
	recDeviceRequest     = "device_request.cbor"       // DeviceRequest as sent
	recReaderKey         = "reader_ephemeral_priv.jwk" // EReaderKey with d (for a deviceMac)
	recIACA              = "iaca.pem"                  // the trust anchor that matched
	recTranscript        = "apdu_transcript.txt"       // the APDUs, reader/apdulog format
	recMeta              = "tap.json"                  // time, reader limits, timing
)

// recordMeta is tap.json: when the tap was recorded (the default
// verification time of a replay), the reader limits the APDUs were shaped
// by, and the tap's timing. It holds no personal data.
type recordMeta struct {
	RecordedAt time.Time       `json:"recordedAt"`
	Limits     nfcLimits       `json:"limits"`
	Timing     terminal.Timing `json:"timing"`
}

// nfcLimits is nfc.Limits in JSON.
type nfcLimits struct {
	Extended        bool `json:"extended"`
	MaxCommandData  int  `json:"maxCommandData,omitempty"`
	MaxResponseData int  `json:"maxResponseData,omitempty"`
}

func (l nfcLimits) limits() nfc.Limits {
	return nfc.Limits{ExtendedAPDU: l.Extended, MaxCommandData: l.MaxCommandData, MaxResponseData: l.MaxResponseData}
}

// recording is one tap on disk.
type recording struct {
	meta       recordMeta
	evidence   terminal.Evidence
	iaca       *x509.Certificate // nil when the response chained to no anchor
	transcript apdulog.Transcript
}

// writeFile0600 writes a file only its owner can read, also when it
// existed before with a wider mode.
func writeFile0600(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeRecording writes rec into dir (created mode 0700), each file mode
// 0600. Parts the tap did not reach (no response, no trusted anchor) are
// left out.
func writeRecording(dir string, rec *recording) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating recording directory: %w", err)
	}
	files := map[string][]byte{}
	ev := rec.evidence
	if len(ev.DeviceResponse) > 0 {
		files[recDeviceResponse] = ev.DeviceResponse
	}
	if len(ev.SessionTranscript) > 0 {
		files[recSessionTranscript] = ev.SessionTranscript
	}
	if len(ev.DeviceRequest) > 0 {
		files[recDeviceRequest] = ev.DeviceRequest
	}
	if ev.ReaderKey != nil {
		jwk, err := encodeJWK(ev.ReaderKey)
		if err != nil {
			return err
		}
		files[recReaderKey] = jwk
	}
	if rec.iaca != nil {
		files[recIACA] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rec.iaca.Raw})
	}
	var tr bytes.Buffer
	fmt.Fprintf(&tr, "# idreader read --record, %s\n", rec.meta.RecordedAt.Format(time.RFC3339))
	rec.transcript.WriteTo(&tr)
	files[recTranscript] = tr.Bytes()
	meta, err := json.MarshalIndent(rec.meta, "", "  ")
	if err != nil {
		return err
	}
	files[recMeta] = append(meta, '\n')
	for name, data := range files {
		if err := writeFile0600(filepath.Join(dir, name), data); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// readRecording reads a recording written by writeRecording. Every part is
// required except iaca.pem.
func readRecording(dir string) (*recording, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading recording: %w", err)
		}
		return b, nil
	}
	rec := &recording{}
	var err error
	if rec.evidence.DeviceResponse, err = read(recDeviceResponse); err != nil {
		return nil, err
	}
	if rec.evidence.SessionTranscript, err = read(recSessionTranscript); err != nil {
		return nil, err
	}
	if rec.evidence.DeviceRequest, err = read(recDeviceRequest); err != nil {
		return nil, err
	}
	jwk, err := read(recReaderKey)
	if err != nil {
		return nil, err
	}
	if rec.evidence.ReaderKey, err = parseJWK(jwk); err != nil {
		return nil, fmt.Errorf("reading %s: %w", recReaderKey, err)
	}
	tr, err := read(recTranscript)
	if err != nil {
		return nil, err
	}
	if rec.transcript, err = apdulog.Parse(tr); err != nil {
		return nil, fmt.Errorf("reading %s: %w", recTranscript, err)
	}
	meta, err := read(recMeta)
	if err != nil {
		return nil, err
	}
	var m struct {
		RecordedAt time.Time `json:"recordedAt"`
		Limits     nfcLimits `json:"limits"`
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", recMeta, err)
	}
	rec.meta.RecordedAt, rec.meta.Limits = m.RecordedAt, m.Limits
	switch b, err := os.ReadFile(filepath.Join(dir, recIACA)); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading recording: %w", err)
	default:
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("reading %s: no CERTIFICATE block", recIACA)
		}
		if rec.iaca, err = x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, fmt.Errorf("reading %s: %w", recIACA, err)
		}
	}
	return rec, nil
}

// encodeJWK writes an ECDH private key as a JWK (RFC 7517/7518 section 6.2;
// RFC 8037 for X25519) with its private member d.
func encodeJWK(k *ecdh.PrivateKey) ([]byte, error) {
	enc := base64.RawURLEncoding.EncodeToString
	pub := k.PublicKey().Bytes()
	var j map[string]string
	switch k.Curve() {
	case ecdh.P256(), ecdh.P384(), ecdh.P521():
		crv := map[ecdh.Curve]string{ecdh.P256(): "P-256", ecdh.P384(): "P-384", ecdh.P521(): "P-521"}[k.Curve()]
		n := (len(pub) - 1) / 2 // uncompressed point: 04 || X || Y
		j = map[string]string{"kty": "EC", "crv": crv, "x": enc(pub[1 : 1+n]), "y": enc(pub[1+n:]), "d": enc(k.Bytes())}
	case ecdh.X25519():
		j = map[string]string{"kty": "OKP", "crv": "X25519", "x": enc(pub), "d": enc(k.Bytes())}
	default:
		return nil, fmt.Errorf("encoding reader key: unsupported curve %v", k.Curve())
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
