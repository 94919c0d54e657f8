package terminal_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

var allTransports = []terminal.Transport{terminal.TransportNFC, terminal.TransportBLECentralClient, terminal.TransportBLEPeripheralServer}

// TestWalletToldWhy: the reader tells the wallet why the session ends, over
// NFC and BLE alike (ISO/IEC 18013-5 clause 9.1.1.4, table 20): 20 after a
// response it could read, 10 when the wallet's SessionData did not decrypt,
// 11 when it was not CBOR.
func TestWalletToldWhy(t *testing.T) {
	f := getFixture(t)
	for _, tr := range allTransports {
		for _, tc := range []struct {
			name    string
			garbage wallet.Garbage
			want    session.Status
			code    verify.Code
		}{
			{"normal end", wallet.GarbageNone, session.StatusTermination, ""},
			{"undecryptable", wallet.GarbageUndecryptable, session.StatusEncryptionError, terminal.CodeSession},
			{"not CBOR", wallet.GarbageNotCBOR, session.StatusDecodingError, verify.CodeMalformed},
		} {
			t.Run(fmt.Sprintf("%s/%s", tr, tc.name), func(t *testing.T) {
				tcfg := f.config(t)
				tcfg.Transports = []terminal.Transport{tr}
				r := run{
					wallet: wallet.Config{
						Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated,
						OfferBLE: tr != terminal.TransportNFC, BLEMode: modeOf(tr),
						Faults: wallet.Faults{Garbage: tc.garbage},
					},
					terminal: tcfg,
				}.do(t)
				if got := terminal.ErrorCode(r.err); got != tc.code {
					t.Fatalf("tap code %q, want %q: %v", got, tc.code, r.err)
				}
				if r.out.Transport != tr {
					t.Fatalf("transport %s", r.out.Transport)
				}
				if !slices.Equal(r.report.Received, []session.Status{tc.want}) {
					t.Errorf("the wallet received statuses %v, want [%v]", r.report.Received, tc.want)
				}
				if r.out.TerminationErr != nil {
					t.Errorf("sending the status: %v", r.out.TerminationErr)
				}
			})
		}
	}
}

// TestWithheldDocument: a wallet that returns no document and names the
// requested doc types in documentErrors is rejected with not_returned, the
// doc types and error codes in the detail, not as malformed.
func TestWithheldDocument(t *testing.T) {
	f := getFixture(t)
	for _, tr := range allTransports {
		t.Run(string(tr), func(t *testing.T) {
			tcfg := f.config(t)
			tcfg.Transports = []terminal.Transport{tr}
			r := run{
				wallet: wallet.Config{
					Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated,
					OfferBLE: tr != terminal.TransportNFC, BLEMode: modeOf(tr),
					Faults: wallet.Faults{WithholdAll: true},
				},
				terminal: tcfg,
			}.do(t)
			if r.err != nil {
				t.Fatalf("tap: %v", r.err)
			}
			res := r.out.Result
			if res.Accepted() || !errors.Is(res.Err(), verify.ErrNotReturned) || errors.Is(res.Err(), verify.ErrMalformed) {
				t.Fatalf("result error %v, want not_returned only", res.Err())
			}
			rep := res.Report()
			if len(rep.Errors) != 1 || rep.Errors[0].Code != verify.CodeNotReturned ||
				!strings.Contains(rep.Errors[0].Detail, mdoc.DocTypeMDL+" (error code 0)") {
				t.Errorf("errors %+v", rep.Errors)
			}
			// The default profile asks for both doc types; both are withheld.
			if len(rep.DocumentErrors) != 2 {
				t.Errorf("documentErrors %+v", rep.DocumentErrors)
			}
			if !slices.Equal(r.report.Received, []session.Status{session.StatusTermination}) {
				t.Errorf("wallet received %v", r.report.Received)
			}
		})
	}
}

// TestOverDisclosure: a wallet that discloses every element it holds is
// reported with exactly the requested ones; the others are counted.
func TestOverDisclosure(t *testing.T) {
	f := getFixture(t)
	held := 0
	for _, items := range f.mdl.Items {
		held += len(items)
	}
	for _, tr := range allTransports {
		t.Run(string(tr), func(t *testing.T) {
			tcfg := f.config(t)
			// A request for two elements, as the age-21 profile makes.
			p := terminal.RequestProfile{Name: "two elements", Requests: []mdoc.ItemsRequest{{DocType: mdoc.DocTypeMDL,
				NameSpaces: map[string]map[string]bool{mdoc.NameSpaceMDL: {"age_over_21": false, "portrait": false}}}}}
			tcfg.Request = p
			tcfg.Transports = []terminal.Transport{tr}
			r := run{
				wallet: wallet.Config{
					Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated,
					OfferBLE: tr != terminal.TransportNFC, BLEMode: modeOf(tr),
					Faults: wallet.Faults{DiscloseAll: true},
				},
				terminal: tcfg,
			}.do(t)
			if r.err != nil {
				t.Fatalf("tap: %v", r.err)
			}
			res := r.out.Result
			if !res.Accepted() {
				t.Fatalf("rejected: %v", res.Err())
			}
			requested := map[string]bool{}
			for _, ir := range p.Requests {
				if ir.DocType != mdoc.DocTypeMDL {
					continue
				}
				for ns, ids := range ir.NameSpaces {
					for id := range ids {
						requested[ns+"/"+id] = true
					}
				}
			}
			d := res.Documents[0]
			kept := 0
			for _, e := range d.Elements {
				if !requested[e.Namespace+"/"+e.Identifier] {
					t.Errorf("unrequested %s/%s reported", e.Namespace, e.Identifier)
				}
				kept++
			}
			if kept == 0 || d.Unrequested != held-kept {
				t.Errorf("%d kept, %d unrequested; the wallet disclosed %d", kept, d.Unrequested, held)
			}
			if rep := res.Report(); rep.Documents[0].Unrequested != d.Unrequested {
				t.Errorf("report unrequested %d", rep.Documents[0].Unrequested)
			}
		})
	}
}
