package verify

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/testvectors"

	"github.com/idreader/idreader/mdoc"
)

// vec reads one ISO/IEC 18013-5 Annex D vector (testdata/annexd).
func vec(tb testing.TB, name string) []byte {
	tb.Helper()
	return testvectors.AnnexD(tb, name)
}

// annexDNow is inside the DS certificate (2020-10-01..2021-10-01), the IACA
// (2020-10-01..2029-09-29) and the MSO (2020-10-01T13:30:02Z..2021-10-01T13:30:02Z).
var annexDNow = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

func annexDOptions(tb testing.TB) Options {
	tb.Helper()
	certs, err := ParseCertificates(vec(tb, "iaca_cert"))
	if err != nil {
		tb.Fatal(err)
	}
	rk, err := ecdh.P256().NewPrivateKey(vec(tb, "e_reader_key_d"))
	if err != nil {
		tb.Fatal(err)
	}
	return Options{Trust: NewTrustStore(certs...), Now: annexDNow, SessionTranscript: vec(tb, "session_transcript_bytes"), ReaderKey: rk}
}

// TestVerifyAnnexD verifies the D.4.1.2 DeviceResponse end to end: DS → IACA,
// issuerAuth (D.5.2), all six digests, MSO validity, deviceMac with EMacKey
// from the Annex D EReaderKey and SessionTranscript (D.5.1, D.5.3).
// TestVerifyNoCopy: VerifyNoCopy gives Verify's report, and its Result
// aliases the response it was handed.
func TestVerifyNoCopy(t *testing.T) {
	resp := vec(t, "device_response")
	want, wantErr := Verify(resp, annexDOptions(t))
	got, gotErr := VerifyNoCopy(resp, annexDOptions(t))
	if (wantErr == nil) != (gotErr == nil) || !reflect.DeepEqual(got.Report(), want.Report()) {
		t.Fatalf("VerifyNoCopy: %v, %+v; Verify: %v, %+v", gotErr, got.Report(), wantErr, want.Report())
	}
	auth := got.Response.Documents[0].IssuerSigned.IssuerAuth
	if i := bytes.Index(resp, auth); i < 0 || &resp[i] != &auth[0] {
		t.Error("the NoCopy Result does not alias the response")
	}
	if res, err := VerifyNoCopy(resp[:10], annexDOptions(t)); err == nil || CodeOf(err) != CodeMalformed || res.Accepted() {
		t.Errorf("a truncated response: %v", err)
	}
}

func TestVerifyAnnexD(t *testing.T) {
	res, err := Verify(vec(t, "device_response"), annexDOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Accepted() || len(res.Documents) != 1 {
		t.Fatalf("not accepted: %+v", res.Failures)
	}
	d := res.Documents[0]
	for _, c := range d.Checks {
		if !c.OK {
			t.Errorf("check %s: %s", c.Name, c.Detail)
		}
	}
	if len(d.Checks) != 13 {
		t.Errorf("%d checks", len(d.Checks))
	}
	if d.DeviceAuth != DeviceAuthMAC || d.Issuer.Country != "US" || d.Issuer.Subject != "CN=utopia ds,C=US" {
		t.Errorf("%+v", d.Issuer)
	}
	if len(d.Elements) != 6 {
		t.Errorf("%d elements", len(d.Elements))
	}
	j, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(j, &rep); err != nil {
		t.Fatal(err)
	}
	if rep["verdict"] != "accept" || len(rep["errors"].([]any)) != 0 {
		t.Errorf("%s", j)
	}
	els := rep["documents"].([]any)[0].(map[string]any)["elements"].(map[string]any)["org.iso.18013.5.1"].(map[string]any)
	if els["family_name"] != "Doe" || els["issue_date"] != "2019-10-20" || els["document_number"] != "123456789" {
		t.Errorf("%v", els)
	}
	dp := els["driving_privileges"].([]any)[0].(map[string]any)
	if dp["vehicle_category_code"] != "A" || dp["expiry_date"] != "2024-10-20" {
		t.Errorf("%v", dp)
	}
	if p, _ := els["portrait"].(string); !strings.HasPrefix(p, "/9j/") {
		t.Errorf("portrait not base64 JPEG: %.20s", p)
	}
	// The bare SessionTranscript array works too.
	opts := annexDOptions(t)
	opts.SessionTranscript = vec(t, "session_transcript")
	if _, err := Verify(vec(t, "device_response"), opts); err != nil {
		t.Errorf("bare transcript: %v", err)
	}
}

func wantCode(t *testing.T, res *Result, err error, code Code) {
	t.Helper()
	if res.Accepted() || err == nil {
		t.Fatalf("accepted, want %s", code)
	}
	if !errors.Is(err, ErrOf(code)) {
		t.Errorf("error %v does not wrap %v", err, ErrOf(code))
	}
	found := false
	for _, f := range res.Failures {
		if f.Code == code {
			found = true
		}
	}
	if !found {
		t.Errorf("no failure with code %s: %+v", code, res.Failures)
	}
	if rep := res.Report(); rep.Verdict != VerdictReject || len(rep.Errors) == 0 {
		t.Errorf("report %+v", rep)
	}
}

func TestVerifyAnnexDNegative(t *testing.T) {
	resp := vec(t, "device_response")
	t.Run("changed element value", func(t *testing.T) {
		// "Doe" → "Dou" inside the family_name item.
		bad := replaceOnce(t, resp, []byte("\x63Doe"), []byte("\x63Dou"))
		res, err := Verify(bad, annexDOptions(t))
		wantCode(t, res, err, CodeValueDigest)
		for _, e := range res.Documents[0].Elements {
			if e.Identifier == "family_name" {
				t.Error("element with a bad digest listed")
			}
		}
	})
	t.Run("digest missing from the MSO", func(t *testing.T) {
		// family_name's digestID 0 → 20; the MSO has IDs 0..12 only.
		bad := replaceOnce(t, resp, []byte("digestID\x00"), []byte("digestID\x14"))
		res, err := Verify(bad, annexDOptions(t))
		wantCode(t, res, err, CodeValueDigest)
		if !strings.Contains(res.Failures[0].Detail, "not in the MSO") {
			t.Errorf("%s", res.Failures[0].Detail)
		}
	})
	t.Run("duplicate digestID", func(t *testing.T) {
		// issue_date's digestID 3 → 0, the ID of family_name.
		bad := replaceOnce(t, resp, []byte("digestID\x03"), []byte("digestID\x00"))
		res, err := Verify(bad, annexDOptions(t))
		wantCode(t, res, err, CodeValueDigest)
	})
	t.Run("expired MSO", func(t *testing.T) {
		o := annexDOptions(t)
		// After validUntil; the DS (until 2021-10-01T00:00Z) has expired too.
		o.Now = time.Date(2021, 10, 1, 13, 30, 3, 0, time.UTC)
		res, err := Verify(resp, o)
		wantCode(t, res, err, CodeMSOValidity)
	})
	t.Run("MSO not yet valid", func(t *testing.T) {
		o := annexDOptions(t)
		o.Now = time.Date(2020, 10, 1, 13, 30, 1, 0, time.UTC) // DS valid, MSO from 13:30:02
		res, err := Verify(resp, o)
		wantCode(t, res, err, CodeMSOValidity)
		for _, c := range res.Documents[0].Checks {
			if c.Name != CheckMSOValidity && !c.OK {
				t.Errorf("%s failed too: %s", c.Name, c.Detail)
			}
		}
	})
	t.Run("untrusted issuer", func(t *testing.T) {
		o := annexDOptions(t)
		root, _ := ParseCertificates(vec(t, "reader_root_cert"))
		o.Trust = NewTrustStore(root...)
		res, err := Verify(resp, o)
		wantCode(t, res, err, CodeIssuerUntrusted)
		o.Trust = nil
		res, err = Verify(resp, o)
		wantCode(t, res, err, CodeIssuerUntrusted)
	})
	t.Run("deviceMac under another transcript", func(t *testing.T) {
		o := annexDOptions(t)
		tr := append([]byte(nil), vec(t, "session_transcript")...)
		tr[len(tr)-1] ^= 1 // last byte of the Handover Request
		o.SessionTranscript = tr
		res, err := Verify(resp, o)
		wantCode(t, res, err, CodeDeviceAuth)
	})
	t.Run("deviceMac with another reader key", func(t *testing.T) {
		o := annexDOptions(t)
		o.ReaderKey, _ = ecdh.P256().NewPrivateKey(vec(t, "e_device_key_d"))
		res, err := Verify(resp, o)
		wantCode(t, res, err, CodeDeviceAuth)
	})
	t.Run("no transcript", func(t *testing.T) {
		o := annexDOptions(t)
		o.SessionTranscript = nil
		res, err := Verify(resp, o)
		wantCode(t, res, err, CodeDeviceAuth)
	})
	t.Run("no reader key", func(t *testing.T) {
		o := annexDOptions(t)
		o.ReaderKey = nil
		res, err := Verify(resp, o)
		wantCode(t, res, err, CodeDeviceAuth)
	})
	t.Run("truncated", func(t *testing.T) {
		res, err := Verify(resp[:len(resp)-10], annexDOptions(t))
		wantCode(t, res, err, CodeMalformed)
	})
	t.Run("garbage", func(t *testing.T) {
		res, err := Verify([]byte("\xff\x00garbage"), annexDOptions(t))
		wantCode(t, res, err, CodeMalformed)
	})
	t.Run("broken issuer signature", func(t *testing.T) {
		sig := vec(t, "issuer_auth")
		last := sig[len(sig)-64:]
		flipped := append([]byte(nil), last...)
		flipped[10] ^= 0x40
		res, err := Verify(replaceOnce(t, resp, last, flipped), annexDOptions(t))
		wantCode(t, res, err, CodeIssuerSignature)
	})
	t.Run("status not zero", func(t *testing.T) {
		res, err := Verify(mustHexT(t, "a26776657273696f6e63312e30667374617475730a"), annexDOptions(t))
		wantCode(t, res, err, CodeMalformed)
	})
}

func replaceOnce(t *testing.T, in, old, new []byte) []byte {
	t.Helper()
	s := string(in)
	if strings.Count(s, string(old)) != 1 {
		t.Fatalf("pattern %x found %d times", old, strings.Count(s, string(old)))
	}
	return []byte(strings.Replace(s, string(old), string(new), 1))
}

func mustHexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var _ = mdoc.DocTypeMDL

// FuzzVerify runs the whole verification on arbitrary input: it must never
// panic, and nothing that is not the intact Annex D response may be accepted
// (a byte change anywhere breaks a digest, a signature or the MAC, or is in
// a part that decodes to the same values).
func FuzzVerify(f *testing.F) {
	resp := vec(f, "device_response")
	f.Add(resp)
	f.Add(resp[:100])
	f.Add(vec(f, "issuer_signed"))
	f.Add(vec(f, "mobile_security_object_bytes"))
	opts := annexDOptions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Verify(data, opts)
		if res == nil {
			t.Fatal("nil result")
		}
		if (err == nil) != res.Accepted() {
			t.Fatal("error and verdict disagree")
		}
		if err != nil && CodeOf(err) == "" {
			t.Fatalf("error without a code: %v", err)
		}
		if _, jerr := res.MarshalJSON(); jerr != nil {
			t.Fatalf("report: %v", jerr)
		}
	})
}

// TestUnprovenElementsNotReported: when the MSO was not signed by a trusted
// issuer, matching digests prove nothing, so no element value is reported
// (the JSON shows only disclosed, proven values).
func TestUnprovenElementsNotReported(t *testing.T) {
	resp := vec(t, "device_response")
	o := annexDOptions(t)
	res, _ := Verify(resp, o)
	if n := len(res.Documents[0].Elements); n != 6 {
		t.Fatalf("accepted response reports %d elements, want 6", n)
	}

	root, _ := ParseCertificates(vec(t, "reader_root_cert"))
	o.Trust = NewTrustStore(root...)
	res, err := Verify(resp, o)
	wantCode(t, res, err, CodeIssuerUntrusted)
	if n := len(res.Documents[0].Elements); n != 0 {
		t.Errorf("untrusted issuer: %d elements reported, want none", n)
	}
	if els := res.Report().Documents[0].Elements; len(els) != 0 {
		t.Errorf("untrusted issuer: report shows %v", els)
	}

	// Flip the last byte of the issuerAuth signature (the last item of the
	// COSE_Sign1, which ends just before "deviceSigned").
	sig := vec(t, "issuer_auth")
	bad := append([]byte(nil), sig...)
	bad[len(bad)-1] ^= 1
	tampered := replaceOnce(t, resp, sig, bad)
	res, err = Verify(tampered, annexDOptions(t))
	wantCode(t, res, err, CodeIssuerSignature)
	if n := len(res.Documents[0].Elements); n != 0 {
		t.Errorf("broken issuer signature: %d elements reported, want none", n)
	}
}
