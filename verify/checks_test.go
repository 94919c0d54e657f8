package verify

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/reason"
)

// TestCheckNames pins the check list: names and order are part of the JSON
// report. revocation sits after mso_validity and is reported only with a
// checker.
func TestCheckNames(t *testing.T) {
	want := []string{"issuer_certificate", "issuer_chain", "anchor_doctype", "certificate_profile", "certificate_validity",
		"issuer_signature", "mso", "doctype", "mso_validity", "revocation", "value_digests",
		"issuing_country", "key_authorizations", "device_auth"}
	if got := CheckNames(); !slices.Equal(got, want) {
		t.Errorf("CheckNames() = %v", got)
	}
	res, err := Verify(vec(t, "device_response"), annexDOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Documents[0].Checks {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, slices.DeleteFunc(want, func(n string) bool { return n == CheckRevocation })) {
		t.Errorf("checks without a revocation checker: %v", names)
	}
	if _, ok := res.Documents[0].Check(CheckRevocation); ok {
		t.Error("revocation reported without a checker")
	}
	if c, ok := res.Documents[0].Check(CheckDeviceAuth); !ok || !c.OK {
		t.Errorf("device_auth by name: %+v %v", c, ok)
	}
}

// recorder is a RevocationChecker that answers r and keeps the queries.
type recorder struct {
	r       RevocationResult
	queries []RevocationQuery
}

func (c *recorder) CheckRevocation(q RevocationQuery) RevocationResult {
	c.queries = append(c.queries, q)
	return c.r
}

func TestRevocationGood(t *testing.T) {
	opts := annexDOptions(t)
	iaca := opts.Trust.Certificates()[0]
	opts.Trust = NewTrustStore()
	opts.Trust.AddAnchors(AnchorInfo{Source: "annex-d", DocTypes: []string{mdoc.DocTypeMDL}}, iaca)
	rc := &recorder{r: RevocationResult{Status: RevocationGood, Detail: "CRL of utopia iaca, 2021-01-01"}}
	opts.Revocation = rc
	res, err := Verify(vec(t, "device_response"), opts)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Documents[0]
	if len(d.Checks) != 14 || d.Checks[9].Name != CheckRevocation || !d.Checks[9].OK ||
		d.Checks[9].Detail != "not revoked: CRL of utopia iaca, 2021-01-01" {
		t.Fatalf("checks: %+v", d.Checks)
	}
	if len(d.Elements) == 0 {
		t.Error("no elements after a good revocation answer")
	}
	if len(rc.queries) != 1 {
		t.Fatalf("%d queries", len(rc.queries))
	}
	q := rc.queries[0]
	if q.DS == nil || q.DS.Subject.CommonName != "utopia ds" || !q.IACA.Equal(iaca) || q.DocType != mdoc.DocTypeMDL ||
		!q.Now.Equal(annexDNow) || q.Anchor.Source != "annex-d" || q.MSOStatus != nil {
		t.Errorf("query: %+v", q)
	}
}

func TestRevocationFails(t *testing.T) {
	for _, tc := range []struct {
		r    RevocationResult
		code Code
	}{
		{RevocationResult{Status: RevocationRevoked, Detail: "serial 0x75 on the CRL"}, CodeRevoked},
		{RevocationResult{Status: RevocationUnknown, Detail: "CRL expired"}, CodeRevocationUnknown},
		{RevocationResult{}, CodeRevocationUnknown}, // the zero answer is not "good"
	} {
		t.Run(tc.r.Status.String(), func(t *testing.T) {
			opts := annexDOptions(t)
			opts.Revocation = RevocationFunc(func(RevocationQuery) RevocationResult { return tc.r })
			res, err := Verify(vec(t, "device_response"), opts)
			wantCode(t, res, err, tc.code)
			d := res.Documents[0]
			if c, ok := d.Check(CheckRevocation); !ok || c.OK {
				t.Errorf("revocation check: %+v", c)
			}
			if len(d.Elements) != 0 {
				t.Error("elements of a signer the checker did not vouch for are reported")
			}
			// Every other check still passes: only revocation failed.
			for _, c := range d.Checks {
				if c.Name != CheckRevocation && !c.OK {
					t.Errorf("%s failed: %s", c.Name, c.Detail)
				}
			}
			if res.Report().Errors[0].Code != tc.code {
				t.Errorf("report code %s", res.Report().Errors[0].Code)
			}
		})
	}
}

// The checker is only asked about a DS that chains to the store.
func TestRevocationNotAskedWithoutAnchor(t *testing.T) {
	rc := &recorder{r: RevocationResult{Status: RevocationGood}}
	opts := annexDOptions(t)
	opts.Trust = nil
	opts.Revocation = rc
	res, _ := Verify(vec(t, "device_response"), opts)
	if c, ok := res.Documents[0].Check(CheckRevocation); !ok || c.OK || c.Detail != "not checked: IACA unknown" || c.Err != nil {
		t.Errorf("untrusted: %+v", c)
	}
	// No usable issuerAuth at all.
	opts = annexDOptions(t)
	opts.Revocation = rc
	r, err := mdoc.ParseDeviceResponse(vec(t, "device_response"))
	if err != nil {
		t.Fatal(err)
	}
	r.Documents[0].IssuerSigned.IssuerAuth = []byte{0x80}
	res, _ = VerifyResponse(r, opts)
	if c, ok := res.Documents[0].Check(CheckRevocation); !ok || c.Detail != "not checked: no usable issuerAuth" {
		t.Errorf("no issuerAuth: %+v", c)
	}
	if len(rc.queries) != 0 {
		t.Errorf("checker asked %d times", len(rc.queries))
	}
}

// TestAnchorDocTypes: an anchor restricted to other doc types (as a VICAL
// lists it) does not vouch for the document: the DS chains, but the check
// anchor_doctype fails with issuer_untrusted and no element is disclosed.
func TestAnchorDocTypes(t *testing.T) {
	opts := annexDOptions(t)
	iaca := opts.Trust.Certificates()[0]
	opts.Trust = NewTrustStore()
	opts.Trust.AddAnchors(AnchorInfo{DocTypes: []string{mdoc.DocTypeMyNumberCard}}, iaca)
	res, err := Verify(vec(t, "device_response"), opts)
	wantCode(t, res, err, CodeIssuerUntrusted)
	if c := check(res, CheckIssuerChain); !c.OK {
		t.Errorf("issuer_chain: %+v", c)
	}
	if c := check(res, CheckAnchorDocType); c.OK || CodeOf(c.Err) != CodeIssuerUntrusted ||
		!strings.Contains(c.Detail, `only for doc types [org.iso.23220.1.jp.mnc], not for "org.iso.18013.5.1.mDL"`) {
		t.Errorf("anchor_doctype: %+v", c)
	}
	if len(res.Documents[0].Elements) != 0 {
		t.Errorf("%d elements disclosed by an anchor not trusted for the doc type", len(res.Documents[0].Elements))
	}
	// Re-adding with the mDL allowed replaces the info.
	opts.Trust.AddAnchors(AnchorInfo{Source: "x", DocTypes: []string{mdoc.DocTypeMyNumberCard, mdoc.DocTypeMDL}}, iaca)
	if _, err := Verify(vec(t, "device_response"), opts); err != nil {
		t.Fatal(err)
	}
	if opts.Trust.Len() != 1 {
		t.Errorf("%d anchors", opts.Trust.Len())
	}
	info, ok := opts.Trust.Anchor(iaca)
	if !ok || info.Source != "x" || len(info.DocTypes) != 2 {
		t.Errorf("Anchor: %+v %v", info, ok)
	}
	info.DocTypes[0] = "changed"
	if again, _ := opts.Trust.Anchor(iaca); again.DocTypes[0] != mdoc.DocTypeMyNumberCard {
		t.Error("Anchor returns the store's own slice")
	}
	ds, _ := ParseCertificates(vec(t, "ds_cert"))
	if _, ok := opts.Trust.Anchor(ds[0]); ok {
		t.Error("the DS is not an anchor")
	}
	var nilStore *TrustStore
	if _, ok := nilStore.Anchor(iaca); ok {
		t.Error("nil store")
	}
}

func TestLoadTrustStoreSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "utopia.hex"), []byte(hex.EncodeToString(vec(t, "iaca_cert"))), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadTrustStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := s.Anchor(s.Certificates()[0])
	if !ok || info.Source != "utopia.hex" || len(info.DocTypes) != 0 {
		t.Errorf("%+v %v", info, ok)
	}
}

// TestCodesInRegistry: every code with a sentinel error is a verification
// code of package reason, with its display texts.
func TestCodesInRegistry(t *testing.T) {
	for _, ce := range codeErrs {
		if ce.code.Category() != reason.CategoryVerification || ErrOf(ce.code) != ce.err || CodeOf(ce.err) != ce.code {
			t.Errorf("%s: category %v", ce.code, ce.code.Category())
		}
	}
	if ErrOf("removed") != nil {
		t.Error("a transport code has no verification error")
	}
}
