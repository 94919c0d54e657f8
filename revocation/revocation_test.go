package revocation_test

import (
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/revocation/revocationtest"
	"github.com/idreader/idreader/verify"
)

func revocationCheck(t *testing.T, res *verify.Result) verify.Check {
	t.Helper()
	if len(res.Documents) != 1 {
		t.Fatalf("documents: %d", len(res.Documents))
	}
	c, ok := res.Documents[0].Check(verify.CheckRevocation)
	if !ok {
		t.Fatal("no revocation check")
	}
	return c
}

func hasCode(res *verify.Result, code verify.Code) bool {
	for _, f := range res.Failures {
		if f.Code == code {
			return true
		}
	}
	return false
}

// A DS listed on a verified CRL of its IACA is revoked; one that is not is
// proven good by a fresh CRL.
func TestCRLRevokedDS(t *testing.T) {
	f := newFixture(t)
	resp := f.response(t, nil)
	other := big.NewInt(4242)
	for _, tc := range []struct {
		name    string
		serials []*big.Int
		revoked bool
	}{
		{"listed", []*big.Int{other, f.pki.DS.SerialNumber}, true},
		{"not listed", []*big.Int{other}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := revocation.NewSet()
			set.AddCRL(f.crl(t, testNow.Add(-time.Hour), testNow.Add(24*time.Hour), tc.serials...), time.Time{})
			for _, mode := range []revocation.Mode{revocation.Hard, revocation.Soft} {
				res, _ := verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: mode}))
				c := revocationCheck(t, res)
				if tc.revoked {
					if res.Accepted() || c.OK || !hasCode(res, verify.CodeRevoked) || len(res.Documents[0].Elements) != 0 {
						t.Errorf("%s: revoked DS: accepted=%v check=%+v failures=%+v", mode, res.Accepted(), c, res.Failures)
					}
					continue
				}
				if !res.Accepted() || !c.OK || !strings.HasPrefix(c.Detail, "not revoked: CRL of ") {
					t.Errorf("%s: good DS: accepted=%v check=%+v", mode, res.Accepted(), c)
				}
			}
		})
	}
}

// A CRL signed by another IACA (same subject name, other key) is refused
// and so never used.
func TestCRLOfAnotherIACA(t *testing.T) {
	f := newFixture(t)
	other, err := pki.New(pki.Options{Rand: seeded(9), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	der, err := revocationtest.CRL(seeded(10), other.IACA, other.IACAKey, []*big.Int{f.pki.DS.SerialNumber}, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := revocation.LoadCRL(der, []*x509.Certificate{f.pki.IACA}); !errors.Is(err, revocation.ErrSignature) {
		t.Fatalf("CRL of another IACA: %v", err)
	}
	if _, err := revocation.LoadCRL(revocationtest.PEM(der), []*x509.Certificate{other.IACA}); err != nil {
		t.Fatalf("PEM CRL of its own IACA: %v", err)
	}
	if _, err := revocation.LoadCRL(der, nil); !errors.Is(err, revocation.ErrSignature) {
		t.Fatalf("CRL without issuers: %v", err)
	}
	if _, err := revocation.LoadCRL([]byte("not a crl"), nil); !errors.Is(err, revocation.ErrMalformed) {
		t.Fatalf("garbage: %v", err)
	}
}

// A CRL past nextUpdate (or past its source's maximum age) proves nothing:
// hard rejects with revocation_unknown, soft accepts and says "not proven".
// A stale CRL that lists the DS still revokes it.
func TestStaleCRLHardAndSoft(t *testing.T) {
	f := newFixture(t)
	resp := f.response(t, nil)
	for _, tc := range []struct {
		name string
		add  func(*revocation.Set)
	}{
		{"past nextUpdate", func(s *revocation.Set) {
			s.AddCRL(f.crl(t, testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour)), time.Time{})
		}},
		{"past max age", func(s *revocation.Set) {
			s.AddCRL(f.crl(t, testNow.Add(-time.Hour), testNow.Add(24*time.Hour)), testNow.Add(-time.Minute))
		}},
		{"no CRL at all", func(*revocation.Set) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := revocation.NewSet()
			tc.add(set)
			res, _ := verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Hard}))
			c := revocationCheck(t, res)
			if res.Accepted() || c.OK || !hasCode(res, verify.CodeRevocationUnknown) {
				t.Errorf("hard: accepted=%v check=%+v", res.Accepted(), c)
			}
			res, _ = verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Soft}))
			c = revocationCheck(t, res)
			if !res.Accepted() || !c.OK || !strings.HasPrefix(c.Detail, "not proven: ") || !strings.HasSuffix(c.Detail, "(soft)") {
				t.Errorf("soft: accepted=%v check=%+v", res.Accepted(), c)
			}
			// The zero Mode is soft.
			res, _ = verify.Verify(resp, f.options(revocation.Checker{Set: set}))
			if !res.Accepted() {
				t.Errorf("zero mode: not accepted: %v", res.Err())
			}
		})
	}
	set := revocation.NewSet()
	set.AddCRL(f.crl(t, testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour), f.pki.DS.SerialNumber), time.Time{})
	res, _ := verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Soft}))
	if res.Accepted() || !hasCode(res, verify.CodeRevoked) {
		t.Errorf("stale CRL listing the DS: accepted=%v %+v", res.Accepted(), res.Failures)
	}
}

const listURI = "https://status.example/mdl/1"

// A status list marking the document invalid or suspended revokes it; a
// valid entry, with a fresh CRL or without any CRL, proves it good.
func TestStatusListRevokesDocument(t *testing.T) {
	f := newFixture(t)
	opts := revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow.Add(-time.Hour), Expires: testNow.Add(time.Hour)}
	tok, err := f.signer.StatusListToken(seeded(11), opts, 2, 1000, map[int]byte{7: revocation.StatusInvalid, 8: revocation.StatusSuspended, 9: 3})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := revocation.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		idx    uint64
		code   verify.Code // "" = accepted
		detail string
	}{
		{7, verify.CodeRevoked, "index 7: invalid"},
		{8, verify.CodeRevoked, "index 8: suspended"},
		{9, verify.CodeRevocationUnknown, "not understood"},
		{5000, verify.CodeRevocationUnknown, "beyond"},
		{6, "", "not revoked: status list " + listURI},
	} {
		resp := f.response(t, revocationtest.StatusListReference(tc.idx, listURI))
		set := revocation.NewSet()
		set.AddToken(parsed, time.Time{})
		res, _ := verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Hard}))
		c := revocationCheck(t, res)
		if tc.code == "" {
			if !res.Accepted() || !strings.HasPrefix(c.Detail, tc.detail) {
				t.Errorf("idx %d: accepted=%v %+v", tc.idx, res.Accepted(), c)
			}
			continue
		}
		if res.Accepted() || !hasCode(res, tc.code) || !strings.Contains(c.Detail, tc.detail) {
			t.Errorf("idx %d: accepted=%v %+v %+v", tc.idx, res.Accepted(), c, res.Failures)
		}
	}
	// With a fresh CRL as well: both must say good.
	resp := f.response(t, revocationtest.StatusListReference(6, listURI))
	set := revocation.NewSet()
	set.AddToken(parsed, time.Time{})
	set.AddCRL(f.crl(t, testNow.Add(-time.Hour), testNow.Add(time.Hour)), time.Time{})
	res, _ := verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Hard}))
	if c := revocationCheck(t, res); !res.Accepted() || !strings.Contains(c.Detail, "CRL of") || !strings.Contains(c.Detail, "status list") {
		t.Errorf("CRL and list: %+v", c)
	}
	// Without the list the MSO status is unknown, whatever the CRL says.
	set = revocation.NewSet()
	set.AddCRL(f.crl(t, testNow.Add(-time.Hour), testNow.Add(time.Hour)), time.Time{})
	res, _ = verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Hard}))
	if c := revocationCheck(t, res); res.Accepted() || !strings.Contains(c.Detail, "no list fetched from "+listURI) {
		t.Errorf("list missing: %+v", c)
	}
}

// The list token must chain to the document's IACA, be unexpired and
// within its source's maximum age.
func TestStatusListTrustAndFreshness(t *testing.T) {
	f := newFixture(t)
	resp := f.response(t, revocationtest.StatusListReference(1, listURI))
	other, err := pki.New(pki.Options{Rand: seeded(12), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := revocationtest.NewSigner(seeded(13), other.IACA, other.IACAKey, testNow.AddDate(0, -1, 0), testNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	fresh := revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow.Add(-time.Hour)}
	for _, tc := range []struct {
		name       string
		signer     *revocationtest.Signer
		opts       revocationtest.TokenOptions
		staleAfter time.Time
		want       string
	}{
		{"other IACA", stranger, fresh, time.Time{}, "not trusted"},
		{"expired", f.signer, revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow.Add(-2 * time.Hour), Expires: testNow.Add(-time.Hour)}, time.Time{}, "expired"},
		{"stale", f.signer, fresh, testNow.Add(-time.Second), "stale since"},
		{"other URI", f.signer, revocationtest.TokenOptions{URI: listURI + "x", IssuedAt: testNow}, time.Time{}, "no list fetched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.signer.StatusListToken(seeded(14), tc.opts, 1, 64, nil)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := revocation.ParseToken(tok)
			if err != nil {
				t.Fatal(err)
			}
			set := revocation.NewSet()
			set.AddToken(parsed, tc.staleAfter)
			res, _ := verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Hard}))
			if c := revocationCheck(t, res); res.Accepted() || !strings.Contains(c.Detail, tc.want) {
				t.Errorf("%+v", c)
			}
			res, _ = verify.Verify(resp, f.options(revocation.Checker{Set: set, Mode: revocation.Soft}))
			if c := revocationCheck(t, res); !res.Accepted() || !strings.HasPrefix(c.Detail, "not proven: ") {
				t.Errorf("soft: %+v", c)
			}
		})
	}
}

// An identifier list that lists the document revokes it.
func TestIdentifierList(t *testing.T) {
	f := newFixture(t)
	tok, err := f.signer.IdentifierListToken(seeded(15), revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow.Add(-time.Hour)}, []byte{1, 2, 3}, []byte{9})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := revocation.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.IsIdentifierList() || parsed.StatusList() != nil {
		t.Fatal("not an identifier list")
	}
	set := revocation.NewSet()
	set.AddToken(parsed, time.Time{})
	for _, tc := range []struct {
		id      []byte
		revoked bool
	}{{[]byte{1, 2, 3}, true}, {[]byte{1, 2}, false}} {
		res, _ := verify.Verify(f.response(t, revocationtest.IdentifierListReference(tc.id, listURI)), f.options(revocation.Checker{Set: set, Mode: revocation.Hard}))
		if res.Accepted() == tc.revoked || tc.revoked && !hasCode(res, verify.CodeRevoked) {
			t.Errorf("id %x: accepted=%v %+v", tc.id, res.Accepted(), res.Failures)
		}
	}
}

// A token whose signature or chain does not verify is refused at parse.
func TestTokenSignature(t *testing.T) {
	f := newFixture(t)
	tok, err := f.signer.StatusListToken(seeded(16), revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow}, 1, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), tok...)
	bad[len(bad)-1] ^= 1
	if _, err := revocation.ParseToken(bad); !errors.Is(err, revocation.ErrSignature) {
		t.Errorf("flipped signature: %v", err)
	}
	if _, err := revocation.ParseToken(tok[:len(tok)-3]); !errors.Is(err, revocation.ErrMalformed) {
		t.Errorf("truncated: %v", err)
	}
}

func TestParseReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		hex  string
		ok   bool
	}{
		{"empty map", "a0", false},
		{"status_list without uri", "a16b7374617475735f6c697374a163696478 01", false},
		{"not a map", "01", false},
	} {
		raw, _ := verify.DecodeHexText([]byte(tc.hex))
		if _, err := revocation.ParseReference(raw); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	ref, err := revocation.ParseReference(revocationtest.StatusListReference(5, listURI))
	if err != nil || ref.StatusList == nil || ref.StatusList.Idx != 5 || ref.StatusList.URI != listURI {
		t.Errorf("%+v %v", ref, err)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]revocation.Mode{"": revocation.Soft, "soft": revocation.Soft, "hard": revocation.Hard} {
		if m, err := revocation.ParseMode(in); err != nil || m != want {
			t.Errorf("%q: %v %v", in, m, err)
		}
	}
	if _, err := revocation.ParseMode("strict"); err == nil {
		t.Error("strict accepted")
	}
}

// An anchor from a source that went stale (a VICAL past its maximum age)
// no longer proves its documents current, whatever the CRL says.
func TestStaleAnchorSource(t *testing.T) {
	f := newFixture(t)
	set := revocation.NewSet()
	set.AddCRL(f.crl(t, testNow.Add(-time.Hour), testNow.Add(time.Hour)), time.Time{})
	set.AddAnchorSource("vical:aamva", testNow.Add(-time.Minute))
	set.AddAnchorSource("vical:fresh", testNow.Add(time.Minute))
	q := verify.RevocationQuery{DS: f.pki.DS, IACA: f.pki.IACA, Now: testNow, Anchor: verify.AnchorInfo{Source: "vical:aamva"}}
	if r := (revocation.Checker{Set: set, Mode: revocation.Hard}).CheckRevocation(q); r.Status != verify.RevocationUnknown || !strings.Contains(r.Detail, "anchor source vical:aamva stale since") {
		t.Errorf("stale: %+v", r)
	}
	q.Anchor.Source = "vical:fresh"
	if r := (revocation.Checker{Set: set, Mode: revocation.Hard}).CheckRevocation(q); r.Status != verify.RevocationGood {
		t.Errorf("fresh: %+v", r)
	}
}

// Concurrent queries share one Set (run with -race).
func TestConcurrentQueries(t *testing.T) {
	f := newFixture(t)
	set := revocation.NewSet()
	set.AddCRL(f.crl(t, testNow.Add(-3*time.Hour), testNow.Add(-2*time.Hour)), time.Time{})
	set.AddCRL(f.crl(t, testNow.Add(-time.Hour), testNow.Add(time.Hour)), time.Time{})
	tok, err := f.signer.StatusListToken(seeded(40), revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow.Add(-time.Hour)}, 1, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := revocation.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	set.AddToken(parsed, time.Time{})
	chk := revocation.Checker{Set: set, Mode: revocation.Hard}
	q := verify.RevocationQuery{DS: f.pki.DS, IACA: f.pki.IACA, Now: testNow, MSOStatus: revocationtest.StatusListReference(1, listURI)}
	done := make(chan verify.RevocationResult, 8)
	for range 8 {
		go func() { done <- chk.CheckRevocation(q) }()
	}
	for range 8 {
		if r := <-done; r.Status != verify.RevocationGood {
			t.Errorf("%+v", r)
		}
	}
}
