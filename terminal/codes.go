package terminal

import (
	"context"
	"errors"

	"github.com/idreader/idreader/internal/printsafe"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reason"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/verify"
)

// Reason codes for a tap that ended without a verifiable response, from the
// one registry in package reason (texts included). They extend the
// verification codes of package verify and are as stable.
const (
	CodeRemoved      = reason.Removed      // the phone left the field
	CodeTimeout      = reason.Timeout      // a step did not finish in time
	CodeWalletStatus = reason.WalletStatus // the wallet ended the session
	CodeSession      = reason.Session      // decryption or counter failure
	CodeTransport    = reason.Transport    // any other reader or APDU failure
	// CodeReaderUnavailable: the reader cannot be used (its service is not
	// running, no reader has that name, it was unplugged): an operator's
	// problem, not the phone's (reader.UnavailableError).
	CodeReaderUnavailable = reason.ReaderUnavailable
)

// ErrorCode maps an error from Tap to a stable reason code.
func ErrorCode(err error) verify.Code {
	if reader.Unavailable(err) != nil {
		return CodeReaderUnavailable
	}
	if c := transportCode(err); c != "" && !errors.Is(err, ErrTimeout) {
		return c
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, reader.ErrRemoved):
		return CodeRemoved
	case errors.Is(err, ErrTimeout), errors.Is(err, reader.ErrTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, nfc.ErrNotReady):
		return CodeTimeout
	case errors.Is(err, ErrWalletStatus):
		return CodeWalletStatus
	case errors.Is(err, ErrNoCarrier), errors.Is(err, mdoc.ErrUnsupportedCurve):
		return verify.CodeUnsupported
	case errors.Is(err, session.ErrDecrypt), errors.Is(err, session.ErrState):
		return CodeSession
	case errors.Is(err, mdoc.ErrMalformed), errors.Is(err, nfc.ErrMalformedNDEF),
		errors.Is(err, nfc.ErrMalformedHandover), errors.Is(err, nfc.ErrMalformedCarrier),
		errors.Is(err, nfc.ErrMalformedTLV), errors.Is(err, nfc.ErrMalformedTNEP),
		errors.Is(err, nfc.ErrMalformedCC), errors.Is(err, nfc.ErrMalformedAPDU):
		return verify.CodeMalformed
	}
	if c := verify.CodeOf(err); c != "" {
		return c
	}
	return CodeTransport
}

// ErrorReport is the JSON report of a tap that failed before verification:
// the same shape as a verification report, with a reject verdict, no
// documents and one error.
func ErrorReport(err error) verify.Report {
	return verify.Report{
		Verdict:   verify.VerdictReject,
		Documents: []verify.DocumentReport{},
		Errors:    []verify.ErrorReport{{Code: ErrorCode(err), Detail: ErrorDetail(err)}},
	}
}

// ErrorDetail is the text of a tap's error for a report: the one-line cause
// of a reader.UnavailableError alone (what an operator acts on, said once),
// otherwise the whole error, escaped and cut (printsafe): its text may hold
// bytes from the phone.
func ErrorDetail(err error) string {
	if ue := reader.Unavailable(err); ue != nil {
		return printsafe.Clip(ue.Reason, verify.MaxDetail)
	}
	return printsafe.Clip(err.Error(), verify.MaxDetail)
}

// NFCLimits converts a reader's whole-APDU limits into the data-field limits
// the nfc package works with (ISO/IEC 7816-4 clause 5.1: an extended case-4
// command adds a 4-byte header, a 3-byte Lc and a 2-byte Le; a response adds
// SW1 SW2).
func NFCLimits(l reader.Limits) nfc.Limits {
	if !l.ExtendedAPDU {
		return nfc.Limits{}
	}
	out := nfc.Limits{ExtendedAPDU: true}
	if l.MaxCommand > 0 {
		out.MaxCommandData = max(l.MaxCommand-9, 1)
	}
	if l.MaxResponse > 0 {
		out.MaxResponseData = max(l.MaxResponse-2, 1)
	}
	return out
}
