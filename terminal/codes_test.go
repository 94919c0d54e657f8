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
