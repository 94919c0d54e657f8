package e2e

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// TestTapAccepted runs the whole matrix through pcscd + vpcd: both doc types,
// static, negotiated and Apple-like handover, device signature and MAC.
func TestTapAccepted(t *testing.T) {
	f := getFixture(t)
	st := openStation(t)
	for _, doc := range []string{"mdl", "mnc"} {
		for _, hand := range []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated, wallet.HandoverApple} {
			for _, auth := range []wallet.DeviceAuth{wallet.AuthSignature, wallet.AuthMAC} {
				t.Run(fmt.Sprintf("%s/%s/%s", doc, hand, auth), func(t *testing.T) {
					cred := f.mdl
					if doc == "mnc" {
						cred = f.mnc
					}
					r := st.tap(t, wallet.Config{
						Credentials: []*credential.Credential{cred},
						Handover:    hand, Auth: auth,
					}, f.terminalConfig(t, ""))
					if r.err != nil {
						t.Fatalf("tap failed: %v (wallet: %+v)", r.err, r.wallet.Err)
					}
					res := r.out.Result
					if !res.Accepted() {
						t.Fatalf("rejected: %v", res.Err())
					}
					if len(res.Documents) != 1 || res.Documents[0].DocType != cred.DocType {
						t.Fatalf("documents = %+v, want one %s", res.Documents, cred.DocType)
					}
					if got, want := res.Documents[0].DeviceAuth, string(auth); got != want {
						t.Errorf("deviceAuth = %q, want %q", got, want)
					}
					if r.out.Negotiated != (hand != wallet.HandoverStatic) {
						t.Errorf("negotiated = %v for %s", r.out.Negotiated, hand)
					}
					if hand == wallet.HandoverApple && r.wallet.NotReadyReads == 0 {
						t.Error("apple mode: the reader never polled past NLEN 0")
					}
					if !r.wallet.Terminated {
						t.Error("the reader did not terminate the session")
					}
					if len(r.wallet.ReaderAuth) == 0 || r.wallet.ReaderAuth[0].Err != nil {
						t.Errorf("reader authentication not verified by the wallet: %+v", r.wallet.ReaderAuth)
					}
					assertPortrait(t, res)
				})
			}
		}
	}
}

func assertPortrait(t *testing.T, res *verify.Result) {
	t.Helper()
	for _, e := range res.Documents[0].Elements {
		if e.Identifier == "portrait" {
			if b, ok := e.Value.([]byte); !ok || len(b) < 100 {
				t.Errorf("portrait is %T of %d bytes", e.Value, len(b))
			}
			return
		}
	}
	t.Error("no portrait disclosed")
}

// TestTapFaults: every wallet fault ends in a reject with its reason code or
// in a clear error, and the reader serves the next tap normally afterwards.
func TestTapFaults(t *testing.T) {
	f := getFixture(t)
	st := openStation(t)
	cases := []struct {
		name     string
		faults   wallet.Faults
		auth     wallet.DeviceAuth
		wantCode verify.Code
		wantErr  bool
	}{
		{name: "tamper", faults: wallet.Faults{Tamper: true}, wantCode: verify.CodeValueDigest},
		{name: "other-transcript-signature", faults: wallet.Faults{SignOtherTranscript: true}, wantCode: verify.CodeDeviceAuth},
		{name: "other-transcript-mac", faults: wallet.Faults{SignOtherTranscript: true}, auth: wallet.AuthMAC, wantCode: verify.CodeDeviceAuth},
		{name: "wrong-device-key", faults: wallet.Faults{WrongDeviceKey: true}, wantCode: verify.CodeDeviceAuth},
		{name: "stall", faults: wallet.Faults{Stall: 10 * time.Second}, wantCode: terminal.CodeTimeout, wantErr: true},
		{name: "vanish", faults: wallet.Faults{Vanish: true}, wantCode: terminal.CodeRemoved, wantErr: true},
		{name: "garbage-not-cbor", faults: wallet.Faults{Garbage: wallet.GarbageNotCBOR}, wantCode: verify.CodeMalformed, wantErr: true},
		{name: "garbage-undecryptable", faults: wallet.Faults{Garbage: wallet.GarbageUndecryptable}, wantCode: terminal.CodeSession, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tcfg := f.terminalConfig(t, "")
			tcfg.ExchangeTimeout = 2 * time.Second
			r := st.tap(t, wallet.Config{
				Credentials: []*credential.Credential{f.mdl},
				Handover:    wallet.HandoverNegotiated, Auth: tc.auth, Faults: tc.faults,
			}, tcfg)
			if tc.wantErr {
				if r.err == nil {
					t.Fatalf("tap succeeded, want an error with code %s", tc.wantCode)
				}
				if got := terminal.ErrorCode(r.err); got != tc.wantCode {
					t.Fatalf("code %s (%v), want %s", got, r.err, tc.wantCode)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("tap failed: %v", r.err)
			}
			if r.out.Result.Accepted() {
				t.Fatal("accepted a faulty response")
			}
			if got := verify.CodeOf(r.out.Result.Err()); got != tc.wantCode {
				t.Fatalf("code %s (%v), want %s", got, r.out.Result.Err(), tc.wantCode)
			}
		})
		// After every fault, a good tap on the same reader works.
		r := st.tap(t, wallet.Config{Credentials: []*credential.Credential{f.mdl}}, f.terminalConfig(t, ""))
		if r.err != nil || !r.out.Result.Accepted() {
			t.Fatalf("after %s: next tap failed: %v", tc.name, errors.Join(r.err, resultErr(r)))
		}
	}
}

func resultErr(r tapResult) error {
	if r.out == nil || r.out.Result == nil {
		return nil
	}
	return r.out.Result.Err()
}

// TestTapAfterPCSCDRestart: the reader side re-establishes its PC/SC context
// when pcscd is restarted and the next tap works.
func TestTapAfterPCSCDRestart(t *testing.T) {
	f := getFixture(t)
	st := openStation(t)
	good := wallet.Config{Credentials: []*credential.Credential{f.mnc}, Handover: wallet.HandoverApple}
	if r := st.tap(t, good, f.terminalConfig(t, "age-20")); r.err != nil || !r.out.Result.Accepted() {
		t.Fatalf("first tap: %v", errors.Join(r.err, resultErr(r)))
	}
	rig.RestartPCSCD(t)
	r := st.tap(t, good, f.terminalConfig(t, "age-20"))
	if r.err != nil || !r.out.Result.Accepted() {
		t.Fatalf("tap after restart: %v", errors.Join(r.err, resultErr(r)))
	}
	// age-20 discloses exactly age_over_20 and the portrait.
	var ids []string
	for _, e := range r.out.Result.Documents[0].Elements {
		ids = append(ids, e.Identifier)
	}
	if len(ids) != 2 {
		t.Errorf("age-20 disclosed %v, want age_over_20 and portrait only", ids)
	}
}
