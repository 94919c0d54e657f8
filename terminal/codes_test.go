package terminal

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/verify"
)

func TestErrorCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("exchanging request: %w", err) }
	cases := []struct {
		err  error
		want verify.Code
	}{
		{wrap(reader.ErrRemoved), CodeRemoved},
		{wrap(reader.ErrTimeout), CodeTimeout},
		{wrap(context.DeadlineExceeded), CodeTimeout},
		{wrap(nfc.ErrNotReady), CodeTimeout},
		{fmt.Errorf("%w 20", ErrWalletStatus), CodeWalletStatus},
		{wrap(ErrNoCarrier), verify.CodeUnsupported},
		{wrap(mdoc.ErrUnsupportedCurve), verify.CodeUnsupported},
		{wrap(session.ErrDecrypt), CodeSession},
		{wrap(mdoc.ErrMalformed), verify.CodeMalformed},
		{wrap(nfc.ErrMalformedNDEF), verify.CodeMalformed},
		{wrap(verify.ErrValueDigest), verify.CodeValueDigest},
		{wrap(&nfc.StatusError{SW: 0x6A82}), CodeTransport},
		{errors.New("something else"), CodeTransport},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	rep := ErrorReport(wrap(reader.ErrRemoved))
	if rep.Verdict != verify.VerdictReject || len(rep.Documents) != 0 || rep.Documents == nil ||
		len(rep.Errors) != 1 || rep.Errors[0].Code != CodeRemoved {
		t.Errorf("ErrorReport = %+v", rep)
	}
}

func TestNFCLimits(t *testing.T) {
	if got := NFCLimits(reader.ShortLimits()); got != (nfc.Limits{}) {
		t.Errorf("short reader: %+v, want the short-only zero value", got)
	}
	got := NFCLimits(reader.ExtendedLimits(65535, 65535))
	// 65535-byte APDU: 4 header + 3 Lc + 2 Le leave 65526 data bytes;
	// a response carries SW1 SW2 after its data.
	if want := (nfc.Limits{ExtendedAPDU: true, MaxCommandData: 65526, MaxResponseData: 65533}); got != want {
		t.Errorf("vpcd reader: %+v, want %+v", got, want)
	}
}

// TestReaderUnavailable: a reader.UnavailableError is reader_unavailable
// whatever else it wraps (a deadline while waiting for pcscd is not a
// phone's timeout), and its report says the one-line reason alone.
func TestReaderUnavailable(t *testing.T) {
	for _, ue := range []*reader.UnavailableError{
		{Reason: "pcscd is not running (start it: systemctl start pcscd)",
			Err: errors.Join(reader.ErrServiceUnavailable, reader.ErrTimeout, context.DeadlineExceeded)},
		{Reason: `reader "desk 00 00" was unplugged`, Err: reader.ErrNoReader},
	} {
		err := fmt.Errorf("waiting for a tap: %w", ue)
		if got := ErrorCode(err); got != CodeReaderUnavailable {
			t.Errorf("ErrorCode(%v) = %q", err, got)
		}
		if got := ErrorDetail(err); got != ue.Reason {
			t.Errorf("ErrorDetail = %q, want %q", got, ue.Reason)
		}
		if rep := ErrorReport(err); rep.Errors[0].Code != CodeReaderUnavailable || rep.Errors[0].Detail != ue.Reason {
			t.Errorf("ErrorReport = %+v", rep)
		}
	}
	if got := ErrorDetail(errors.New("other")); got != "other" {
		t.Errorf("ErrorDetail(other) = %q", got)
	}
}
