package terminal_test

import (
	"context"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader/apdulog"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

func recordedTap(t *testing.T, mode wallet.HandoverMode, auth wallet.DeviceAuth, lim nfc.Limits) (*terminal.Outcome, apdulog.Transcript, terminal.Config) {
	t.Helper()
	f := roundTripFixture(t)
	prof := terminal.DefaultRequestProfile()
	w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: mode, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cfg := terminal.Config{
		Trust: f.trust, Request: prof, ReaderAuth: f.reader, Limits: lim, Record: true,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
	rec := apdulog.NewRecorder(w.Transceiver())
	out, err := terminal.Tap(context.Background(), rec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Result.Accepted() {
		t.Fatalf("not accepted: %v", out.Result.Failures)
	}
	return out, rec.Transcript(), cfg
}

// Every phase the terminal owns is timed, and the JSON form is phase →
// milliseconds with only the phases that took place.
func TestTiming(t *testing.T) {
	out, _, _ := recordedTap(t, wallet.HandoverNegotiated, wallet.AuthSignature, nfc.Limits{ExtendedAPDU: true})
	for _, p := range []terminal.Phase{terminal.PhaseEngagement, terminal.PhaseSession, terminal.PhaseRequest, terminal.PhaseTransfer, terminal.PhaseVerification} {
		if out.Timing.Get(p) <= 0 {
			t.Errorf("phase %s not timed", p)
		}
	}
	for _, p := range []terminal.Phase{terminal.PhaseDetection, terminal.PhaseDecision, terminal.PhaseOutput} {
		if out.Timing.Get(p) != 0 {
			t.Errorf("phase %s timed by the terminal", p)
		}
	}
	b, err := json.Marshal(out.Timing)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 5 || m["transfer"] <= 0 {
		t.Errorf("timing JSON %s", b)
	}
	var tm terminal.Timing
	tm.Set(terminal.PhaseOutput, 1500*time.Microsecond)
	tm.Add(terminal.PhaseOutput, 500*time.Microsecond)
	tm.Set("nonsense", time.Second)
	if got := tm.Milliseconds(); len(got) != 1 || got["output"] != 2 {
		t.Errorf("Milliseconds %v", got)
	}
	if ph := tm.Phases(); len(ph) != 1 || ph[0].Phase != terminal.PhaseOutput {
		t.Errorf("Phases %v", ph)
	}
}

// The evidence of a tap verifies offline, and the tap's APDU transcript
// replays through the terminal byte for byte to the same verdict, for each
// engagement mode, both device authentications and both reader classes.
func TestRecordAndReplay(t *testing.T) {
	for _, tc := range []struct {
		mode wallet.HandoverMode
		auth wallet.DeviceAuth
		lim  nfc.Limits
	}{
		{wallet.HandoverNegotiated, wallet.AuthSignature, nfc.Limits{ExtendedAPDU: true}},
		{wallet.HandoverStatic, wallet.AuthMAC, nfc.Limits{}},
		{wallet.HandoverApple, wallet.AuthMAC, nfc.Limits{ExtendedAPDU: true}},
	} {
		t.Run(string(tc.mode)+"/"+string(tc.auth), func(t *testing.T) {
			out, tr, cfg := recordedTap(t, tc.mode, tc.auth, tc.lim)
			ev := out.Evidence
			if ev == nil || len(ev.DeviceResponse) == 0 || ev.SessionTranscript[0] != 0xd8 {
				t.Fatalf("evidence %+v", ev)
			}
			res, err := verify.Verify(ev.DeviceResponse, verify.Options{Trust: cfg.Trust, Now: time.Now(), SessionTranscript: ev.SessionTranscript, ReaderKey: ev.ReaderKey})
			if err != nil || !res.Accepted() {
				t.Fatalf("offline verification: %v", err)
			}
			rcfg, err := terminal.ReplayConfig(terminal.Config{Trust: cfg.Trust, Limits: cfg.Limits}, ev)
			if err != nil {
				t.Fatal(err)
			}
			p := apdulog.NewPlayer(tr)
			again, err := terminal.Tap(context.Background(), p, rcfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if !again.Result.Accepted() || again.Result.Documents[0].DeviceAuth != out.Result.Documents[0].DeviceAuth {
				t.Errorf("replayed verdict differs")
			}
		})
	}
	// A transcript from another tap does not replay.
	out, _, cfg := recordedTap(t, wallet.HandoverNegotiated, wallet.AuthSignature, nfc.Limits{ExtendedAPDU: true})
	_, other, _ := recordedTap(t, wallet.HandoverNegotiated, wallet.AuthSignature, nfc.Limits{ExtendedAPDU: true})
	rcfg, err := terminal.ReplayConfig(terminal.Config{Trust: cfg.Trust, Limits: cfg.Limits}, out.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	p := apdulog.NewPlayer(other)
	if _, err := terminal.Tap(context.Background(), p, rcfg); !errors.Is(err, apdulog.ErrMismatch) {
		t.Errorf("replaying another tap's transcript: %v", err)
	}
	if _, err := terminal.ReplayConfig(terminal.Config{}, &terminal.Evidence{}); err == nil {
		t.Error("empty evidence accepted")
	}
}

func TestTimingJSONRoundTrip(t *testing.T) {
	var tm terminal.Timing
	tm.Set(terminal.PhaseDetection, 1900*time.Microsecond)
	tm.Set(terminal.PhaseOutput, 250*time.Microsecond)
	b, err := json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"detection":1.9,"output":0.25}` {
		t.Errorf("JSON %s", b)
	}
	var back terminal.Timing
	if err := json.Unmarshal(b, &back); err != nil || back != tm {
		t.Errorf("round trip %+v, %v", back, err)
	}
	for _, bad := range []string{`{"lunch":1}`, `[1]`, `{"output":"slow"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestTimingSubMicrosecondPhase: a phase that took place but lasted less
// than a microsecond is reported as 0.001 ms, never as 0 (which reads as a
// phase that did not happen once decoded).
func TestTimingSubMicrosecondPhase(t *testing.T) {
	var tm terminal.Timing
	tm.Set(terminal.PhaseOutput, 400*time.Nanosecond)
	tm.Set(terminal.PhaseEngagement, 1500*time.Microsecond)
	ms := tm.Milliseconds()
	if ms["output"] != 0.001 || ms["engagement"] != 1.5 {
		t.Fatalf("Milliseconds() = %v, want output 0.001 and engagement 1.5", ms)
	}
	b, err := json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	var back terminal.Timing
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Get(terminal.PhaseOutput) <= 0 {
		t.Fatalf("output phase lost in %s", b)
	}
}

// The EReaderKey made during a TNEP wait is fresh for every tap and is
// used only when the wallet's EDeviceKey is on its curve, P-256; for a
// wallet on another curve the reader makes a key on that curve and the
// session still works (ISO/IEC 18013-5 clause 9.1.1.4).
func TestEphemeralKeyMadeDuringWait(t *testing.T) {
	f := roundTripFixture(t)
	seen := map[string]bool{}
	for _, tc := range []struct {
		curve ecdh.Curve
		mode  wallet.HandoverMode
	}{
		{ecdh.P256(), wallet.HandoverNegotiated}, {ecdh.P256(), wallet.HandoverNegotiated},
		{ecdh.P384(), wallet.HandoverNegotiated}, {ecdh.P521(), wallet.HandoverNegotiated},
		{ecdh.P256(), wallet.HandoverStatic},
	} {
		w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: tc.mode, Curve: tc.curve})
		if err != nil {
			t.Fatal(err)
		}
		waits := 0
		cfg := terminal.Config{
			Trust: f.trust, Request: terminal.DefaultRequestProfile(), ReaderAuth: f.reader,
			Limits: nfc.Limits{ExtendedAPDU: true}, Record: true,
			Sleep: func(ctx context.Context, d time.Duration) error {
				waits++
				return ctx.Err()
			},
		}
		out, err := terminal.Tap(context.Background(), w.Transceiver(), cfg)
		w.Close()
		if err != nil || !out.Result.Accepted() {
			t.Fatalf("%v %s: %v", tc.curve, tc.mode, err)
		}
		key := out.Evidence.ReaderKey
		if key.Curve() != tc.curve {
			t.Errorf("%v %s: EReaderKey on %v", tc.curve, tc.mode, key.Curve())
		}
		if seen[string(key.Bytes())] {
			t.Errorf("%v %s: an EReaderKey of an earlier tap again", tc.curve, tc.mode)
		}
		seen[string(key.Bytes())] = true
		if (tc.mode == wallet.HandoverNegotiated) != (waits > 0) {
			t.Errorf("%v %s: %d waits", tc.curve, tc.mode, waits)
		}
	}
}
