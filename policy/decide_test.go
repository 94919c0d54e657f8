package policy

import (
	"slices"
	"testing"
	"time"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/reason"
	"github.com/idreader/idreader/verify"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func el(ns, id string, v any) verify.Element {
	return verify.Element{Namespace: ns, Identifier: id, Value: v}
}

func doc(docType, country string, elements ...verify.Element) verify.DocumentResult {
	return verify.DocumentResult{
		DocType:  docType,
		Issuer:   verify.Issuer{Country: country},
		Elements: elements,
		Checks:   []verify.Check{{Name: verify.CheckIssuerSignature, OK: true}},
	}
}

func result(docs ...verify.DocumentResult) *verify.Result {
	return &verify.Result{Response: &mdoc.DeviceResponse{Version: "1.0"}, Documents: docs}
}

var portrait = []byte{0xff, 0xd8, 0xff, 0xe0}

func mdl(country string, extra ...verify.Element) verify.DocumentResult {
	return doc(mdoc.DocTypeMDL, country, append([]verify.Element{el(mdoc.NameSpaceMDL, "portrait", portrait)}, extra...)...)
}

func TestDecide(t *testing.T) {
	b := Builtin()
	age20, age21, identity := b["age-20"], b["age-21"], b["identity"]
	tomorrow := mdoc.FullDateOf(now.AddDate(0, 0, 1))
	today := mdoc.FullDateOf(now)
	yesterday := mdoc.FullDateOf(now.AddDate(0, 0, -1))
	cases := []struct {
		name    string
		p       *Profile
		res     *verify.Result
		accept  bool
		reasons []string
	}{
		{"nil result", age20, nil, false, []string{"malformed"}},
		{"verification failure", age20, &verify.Result{
			Response:  &mdoc.DeviceResponse{},
			Documents: []verify.DocumentResult{mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", true))},
			Failures: []verify.Failure{
				{Code: verify.CodeValueDigest}, {Code: verify.CodeDeviceAuth}, {Code: verify.CodeValueDigest},
			},
		}, false, []string{"value_digest", "device_auth"}},
		{"wallet holds none of the doc types", age21, &verify.Result{
			Response: &mdoc.DeviceResponse{DocumentErrors: []map[string]int64{{mdoc.DocTypeMDL: 0}}},
			Failures: []verify.Failure{{Code: verify.CodeNotReturned}},
		}, false, []string{CodeDocTypeNotAllowed}},
		{"no documents, status 10 with documentErrors", age21, &verify.Result{
			Response: &mdoc.DeviceResponse{Status: 10, DocumentErrors: []map[string]int64{{mdoc.DocTypeMDL: 0}}},
			Failures: []verify.Failure{{Code: verify.CodeMalformed}, {Code: verify.CodeMalformed}},
		}, false, []string{"malformed"}},
		{"no documents", age20, &verify.Result{Response: &mdoc.DeviceResponse{}}, false, []string{"malformed"}},
		{"age-20 mdl accept", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", true))), true, nil},
		{"age-20 mnc accept", age20, result(doc(mdoc.DocTypeMyNumberCard, "JP",
			el(mdoc.NameSpace23220, "age_over_20", true), el(mdoc.NameSpace23220JP, "portrait", portrait))), true, nil},
		{"age-20 false", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", false))), false, []string{CodeAgeNotMet}},
		{"age-20 implied true by age_over_21", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true))), true, nil},
		{"age-20 implied false by age_over_18", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_18", false))), false, []string{CodeAgeNotMet}},
		{"age-20 true age_over_18 implies nothing", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_18", true))), false, []string{CodeElementMissing}},
		{"age-20 false age_over_21 implies nothing", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", false))), false, []string{CodeElementMissing}},
		{"age-20 direct answer wins", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "age_over_20", false))), false, []string{CodeAgeNotMet}},
		{"age-20 not a bool", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", "yes"))), false, []string{CodeAgeNotMet}},
		{"age-20 missing", age20, result(mdl("US")), false, []string{CodeElementMissing}},
		{"age-20 no portrait", age20, result(doc(mdoc.DocTypeMDL, "US", el(mdoc.NameSpaceMDL, "age_over_20", true))), false, []string{CodeElementMissing}},
		{"age-20 empty portrait", age20, result(doc(mdoc.DocTypeMDL, "US", el(mdoc.NameSpaceMDL, "age_over_20", true), el(mdoc.NameSpaceMDL, "portrait", []byte{}))), false, []string{CodeElementMissing}},
		{"doctype not allowed", age21, result(doc(mdoc.DocTypeMyNumberCard, "JP", el(mdoc.NameSpace23220, "age_over_21", true))), false, []string{CodeDocTypeNotAllowed}},
		{"age-21 accept", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", tomorrow))), true, nil},
		{"age-21 expires today still valid", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", today))), true, nil},
		{"age-21 expired", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", yesterday))), false, []string{CodeDocumentExpired}},
		{"age-21 expired tdate", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", mdoc.TDate{Time: now.Add(-time.Hour)}))), false, []string{CodeDocumentExpired}},
		{"age-21 expiry not a date", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", "2099-01-01"))), false, []string{CodeDocumentExpired}},
		{"age-21 expiry missing", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true))), false, []string{CodeElementMissing}},
		{"age-21 issuer not allowed", age21, result(mdl("JP", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", tomorrow))), false, []string{CodeIssuerNotAllowed}},
		{"several failures in profile order", age21, result(mdl("DE", el(mdoc.NameSpaceMDL, "age_over_21", false), el(mdoc.NameSpaceMDL, "expiry_date", yesterday))),
			false, []string{CodeIssuerNotAllowed, CodeAgeNotMet, CodeDocumentExpired}},
		{"second document accepted", age20, result(
			doc("org.example.other", "US"),
			mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", false)),
			doc(mdoc.DocTypeMyNumberCard, "JP", el(mdoc.NameSpace23220, "age_over_20", true), el(mdoc.NameSpace23220JP, "portrait", portrait)),
		), true, nil},
		{"identity accept", identity, result(mdl("US", el(mdoc.NameSpaceMDL, "birth_date", mdoc.FullDate{Year: 1990, Month: 4, Day: 15}),
			el(mdoc.NameSpaceMDL, "expiry_date", tomorrow))), true, nil},
		{"identity birth date missing", identity, result(mdl("US", el(mdoc.NameSpaceMDL, "expiry_date", tomorrow))), false, []string{CodeElementMissing}},
		{"identity mnc without expiry_date requested", identity, result(doc(mdoc.DocTypeMyNumberCard, "JP",
			el(mdoc.NameSpace23220, "birth_date", mdoc.FullDate{Year: 1990, Month: 4, Day: 15}), el(mdoc.NameSpace23220JP, "portrait", portrait))), true, nil},
		{"condition not met", &Profile{Name: "x", Documents: []DocumentRequest{{DocType: mdoc.DocTypeMDL, Elements: elems(mdoc.NameSpaceMDL, "vip")}},
			RequireTrue: []string{"vip"}}, result(doc(mdoc.DocTypeMDL, "US", el(mdoc.NameSpaceMDL, "vip", false))), false, []string{CodeConditionNotMet}},
		{"required true missing", &Profile{Name: "x", Documents: []DocumentRequest{{DocType: mdoc.DocTypeMDL, Elements: elems(mdoc.NameSpaceMDL, "vip")}},
			RequireTrue: []string{"vip"}}, result(doc(mdoc.DocTypeMDL, "US")), false, []string{CodeElementMissing}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.p, tc.res, now)
			if d.Accept != tc.accept || !slices.Equal(d.Reasons, tc.reasons) {
				t.Fatalf("Decide = accept %v %v, want accept %v %v", d.Accept, d.Reasons, tc.accept, tc.reasons)
			}
			if d.Accept && (d.Document < 0 || d.DocType == "") {
				t.Errorf("accepted without a document: %+v", d)
			}
		})
	}
}

func TestDecideDescribesAcceptedDocument(t *testing.T) {
	res := result(
		mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", false)),
		doc(mdoc.DocTypeMyNumberCard, "JP", el(mdoc.NameSpace23220, "age_over_20", true), el(mdoc.NameSpace23220JP, "portrait", portrait)),
	)
	d := Decide(Builtin()["age-20"], res, now)
	if !d.Accept || d.Document != 1 || d.DocType != mdoc.DocTypeMyNumberCard || d.IssuerCountry != "JP" {
		t.Fatalf("decision %+v", d)
	}
}

func TestBuiltinValid(t *testing.T) {
	for name, p := range Builtin() {
		if p.Name != name {
			t.Errorf("profile %q named %q", name, p.Name)
		}
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
		for _, r := range p.ItemsRequests() {
			for _, ns := range r.NameSpaces {
				for id, retain := range ns {
					if retain {
						t.Errorf("%s retains %s", name, id)
					}
				}
			}
		}
	}
	if !Builtin()["identity"].Display.Portrait || Builtin()["age-20"].Display.Portrait {
		t.Error("display flags of the built-ins")
	}
}

func TestValidate(t *testing.T) {
	ok := func() *Profile {
		return &Profile{Name: "p", Documents: []DocumentRequest{{DocType: mdoc.DocTypeMDL, Elements: elems(mdoc.NameSpaceMDL, "age_over_18")}}}
	}
	cases := map[string]func(p *Profile){
		"no name":              func(p *Profile) { p.Name = "" },
		"no documents":         func(p *Profile) { p.Documents = nil },
		"no elements":          func(p *Profile) { p.Documents[0].Elements = nil },
		"doc type twice":       func(p *Profile) { p.Documents = append(p.Documents, p.Documents[0]) },
		"empty doc type":       func(p *Profile) { p.Documents[0].DocType = "" },
		"empty namespace":      func(p *Profile) { p.Documents[0].Elements[0].Namespace = "" },
		"present unrequested":  func(p *Profile) { p.RequirePresent = []string{"portrait"} },
		"true unrequested":     func(p *Profile) { p.RequireTrue = []string{"age_over_21"} },
		"portrait unrequested": func(p *Profile) { p.RequirePortrait = true },
		"bad country":          func(p *Profile) { p.IssuerCountries = []string{"usa"} },
	}
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range cases {
		p := ok()
		mutate(p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAgeOver(t *testing.T) {
	for id, want := range map[string]int{"age_over_18": 18, "age_over_20": 20, "age_over_65": 65, "age_over_1": -1, "age_over_100": -1, "age_in_years": -1} {
		n, ok := AgeOver(id)
		if (want >= 0) != ok || (ok && n != want) {
			t.Errorf("AgeOver(%q) = %d, %v", id, n, ok)
		}
	}
}

func TestHolder(t *testing.T) {
	b := Builtin()
	d := mdl("US", el(mdoc.NameSpaceMDL, "given_name", "Robin"), el(mdoc.NameSpaceMDL, "family_name", "Sample"))
	name, pic := Holder(b["identity"], &d)
	if name != "Robin Sample" || len(pic) == 0 {
		t.Errorf("identity: %q, %d bytes", name, len(pic))
	}
	name, pic = Holder(b["age-20"], &d)
	if name != "" || pic != nil {
		t.Errorf("age-20 shows %q, %d bytes", name, len(pic))
	}
	m := doc(mdoc.DocTypeMyNumberCard, "JP", el(mdoc.NameSpace23220JP, "full_name_unicode", "見本 花子"))
	if name, _ := Holder(b["identity"], &m); name != "見本 花子" {
		t.Errorf("mnc name %q", name)
	}
}

func TestClone(t *testing.T) {
	p := Builtin()["age-21"]
	q := p.Clone()
	q.Documents[0].Elements[0].IntentToRetain = true
	q.IssuerCountries[0] = "JP"
	if p.Documents[0].Elements[0].IntentToRetain || p.IssuerCountries[0] != "US" {
		t.Error("Clone shares memory")
	}
}

func BenchmarkDecide(b *testing.B) {
	p := Builtin()["age-21"]
	res := result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", mdoc.FullDateOf(now.AddDate(1, 0, 0)))))
	b.ReportAllocs()
	for b.Loop() {
		Decide(p, res, now)
	}
}

func devEl(ns, id string, v any) verify.Element {
	e := el(ns, id, v)
	e.DeviceSigned = true
	return e
}

// TestDecideOnlyRequestedIssuerSigned: a condition rests only on an
// issuer-signed element in a name space the profile requests it in. An
// element of another name space (one the issuer signed for some other
// purpose, or one keyAuthorizations lets the device sign) or a device-signed
// one cannot satisfy it, but a false or expired one anywhere still rejects.
func TestDecideOnlyRequestedIssuerSigned(t *testing.T) {
	b := Builtin()
	age20, age21, identity := b["age-20"], b["age-21"], b["identity"]
	const otherNS = "com.example.wallet"
	tomorrow := mdoc.FullDateOf(now.AddDate(0, 0, 1))
	yesterday := mdoc.FullDateOf(now.AddDate(0, 0, -1))
	cases := []struct {
		name    string
		p       *Profile
		res     *verify.Result
		accept  bool
		reasons []string
	}{
		{"age_over_20 in another name space", age20, result(mdl("US", el(otherNS, "age_over_20", true))), false, []string{CodeElementMissing}},
		{"device-signed age_over_20", age20, result(mdl("US", devEl(mdoc.NameSpaceMDL, "age_over_20", true))), false, []string{CodeElementMissing}},
		{"device-signed age_over_21 implies nothing", age20, result(mdl("US", devEl(mdoc.NameSpaceMDL, "age_over_21", true))), false, []string{CodeElementMissing}},
		{"age_over_21 in another name space implies nothing", age20, result(mdl("US", el(otherNS, "age_over_21", true))), false, []string{CodeElementMissing}},
		{"false answer in another name space rejects", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", true), el(otherNS, "age_over_20", false))), false, []string{CodeAgeNotMet}},
		{"device-signed false answer rejects", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", true), devEl(mdoc.NameSpaceMDL, "age_over_20", false))), false, []string{CodeAgeNotMet}},
		{"implied false rejects even with a true answer", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_20", true), el(mdoc.NameSpaceMDL, "age_over_18", false))), false, []string{CodeAgeNotMet}},
		{"implied true but implied false too", age20, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "age_over_18", false))), false, []string{CodeAgeNotMet}},
		{"portrait in another name space", age20, result(doc(mdoc.DocTypeMDL, "US", el(mdoc.NameSpaceMDL, "age_over_20", true), el(otherNS, "portrait", portrait))), false, []string{CodeElementMissing}},
		{"device-signed portrait", age20, result(doc(mdoc.DocTypeMDL, "US", el(mdoc.NameSpaceMDL, "age_over_20", true), devEl(mdoc.NameSpaceMDL, "portrait", portrait))), false, []string{CodeElementMissing}},
		{"mnc portrait in the mDL name space", age20, result(doc(mdoc.DocTypeMyNumberCard, "JP", el(mdoc.NameSpace23220, "age_over_20", true), el(mdoc.NameSpaceMDL, "portrait", portrait))), false, []string{CodeElementMissing}},
		{"expiry_date only in another name space", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(otherNS, "expiry_date", tomorrow))), false, []string{CodeElementMissing}},
		{"device-signed expiry_date", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), devEl(mdoc.NameSpaceMDL, "expiry_date", tomorrow))), false, []string{CodeElementMissing}},
		{"expired expiry_date in another name space", age21, result(mdl("US", el(mdoc.NameSpaceMDL, "age_over_21", true), el(mdoc.NameSpaceMDL, "expiry_date", tomorrow), el(otherNS, "expiry_date", yesterday))), false, []string{CodeDocumentExpired}},
		{"birth_date in another name space", identity, result(mdl("US", el(otherNS, "birth_date", mdoc.FullDate{Year: 1990, Month: 4, Day: 15}), el(mdoc.NameSpaceMDL, "expiry_date", tomorrow))), false, []string{CodeElementMissing}},
		{"device-signed birth_date", identity, result(mdl("US", devEl(mdoc.NameSpaceMDL, "birth_date", mdoc.FullDate{Year: 1990, Month: 4, Day: 15}), el(mdoc.NameSpaceMDL, "expiry_date", tomorrow))), false, []string{CodeElementMissing}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Element order must not matter: try both.
			for _, rev := range []bool{false, true} {
				res := tc.res
				if rev {
					d := res.Documents[0]
					d.Elements = slices.Clone(d.Elements)
					slices.Reverse(d.Elements)
					res = result(d)
				}
				d := Decide(tc.p, res, now)
				if d.Accept != tc.accept || !slices.Equal(d.Reasons, tc.reasons) {
					t.Fatalf("reversed=%v: Decide = accept %v %v, want accept %v %v", rev, d.Accept, d.Reasons, tc.accept, tc.reasons)
				}
			}
		})
	}
}

func TestHolderOnlyRequestedIssuerSigned(t *testing.T) {
	p := Builtin()["identity"]
	d := mdl("US", devEl(mdoc.NameSpaceMDL, "given_name", "Mallory"), el("com.example.wallet", "family_name", "Forged"))
	d.Elements[0].DeviceSigned = true // the portrait too
	if name, pic := Holder(p, &d); name != "" || pic != nil {
		t.Errorf("Holder shows %q, %d bytes", name, len(pic))
	}
}

// TestCodesInRegistry: the policy's codes are the policy codes of package
// reason.
func TestCodesInRegistry(t *testing.T) {
	for _, c := range []string{CodeElementMissing, CodeAgeNotMet, CodeDocumentExpired, CodeDocTypeNotAllowed,
		CodeIssuerNotAllowed, CodeConditionNotMet} {
		if reason.Code(c).Category() != reason.CategoryPolicy {
			t.Errorf("%s is not a policy code of the registry", c)
		}
	}
}
