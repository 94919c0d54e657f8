package policy

import (
	"slices"
	"strings"
	"time"

	"github.com/idreader/idreader/internal/printsafe"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/reason"
	"github.com/idreader/idreader/verify"
)

// The policy's reason codes (the registry with their display texts is
// package reason). They are stable: tools, audit records and the
// point-of-sale API print them and they never change meaning.
const (
	// CodeElementMissing: a required element (or the portrait) was not
	// disclosed, or an age_over_NN question got no answer that decides it.
	CodeElementMissing = string(reason.ElementMissing)
	// CodeAgeNotMet: age_over_NN was answered false, directly or implied by
	// a false age_over_XX with XX < NN (ISO/IEC 18013-5 clause 7.2.5).
	CodeAgeNotMet = string(reason.AgeNotMet)
	// CodeDocumentExpired: the document's expiry_date has passed.
	CodeDocumentExpired = string(reason.DocumentExpired)
	// CodeDocTypeNotAllowed: the response holds no document of a doc type
	// the profile accepts.
	CodeDocTypeNotAllowed = string(reason.DocTypeNotAllowed)
	// CodeIssuerNotAllowed: the issuer's country is not in the profile's
	// list.
	CodeIssuerNotAllowed = string(reason.IssuerNotAllowed)
	// CodeConditionNotMet: an element that must be true (other than
	// age_over_NN) was false or not a boolean.
	CodeConditionNotMet = string(reason.ConditionNotMet)
)

// Decision is the outcome of a profile applied to a verification result.
type Decision struct {
	Accept bool
	// Reasons are the stable reason codes of a rejection, without
	// duplicates, verification codes first; empty on accept.
	Reasons []string
	// Document is the index in Result.Documents of the document the
	// decision rests on (the accepted one, or the first one of an accepted
	// doc type), -1 when there is none.
	Document int
	// DocType and IssuerCountry describe that document without identifying
	// its holder (for audit records and events).
	DocType       string
	IssuerCountry string
}

// Decide applies profile p to a verification result at time now.
//
// A result that is nil or not accepted by verification is rejected with the
// verification codes (malformed for nil). Otherwise each document of an
// accepted doc type is checked against the conditions; the response is
// accepted when one document meets them all, and rejected with the union of
// the failed conditions' codes otherwise (doctype_not_allowed when no
// document has an accepted doc type, or when verification failed with
// verify.CodeNotReturned: the response holds no document and lists the
// requested doc types in documentErrors, the wallet has none of them).
//
// age_over_NN (ISO/IEC 18013-5 clause 7.2.5): a wallet that does not hold
// age_over_NN may answer with the nearest age_over_XX that implies the
// answer. A true age_over_XX with XX > NN implies true; a false one with
// XX < NN implies false. A false answer, direct or implied, rejects with
// age_not_met; no deciding answer rejects with element_missing.
//
// Only issuer-signed elements in a name space the profile requests them in
// (for the document's doc type) can satisfy a condition. Elements the reader
// did not ask for, in another name space, or signed only by the device key
// (whose values the wallet chooses) can only make a condition fail: a false
// age_over_NN or a past expiry_date anywhere in the document rejects.
func Decide(p *Profile, res *verify.Result, now time.Time) Decision {
	d := Decision{Document: -1}
	if res == nil {
		d.Reasons = []string{string(verify.CodeMalformed)}
		return d
	}
	if slices.ContainsFunc(res.Failures, func(f verify.Failure) bool { return f.Code == verify.CodeNotReturned }) {
		// Verification's not_returned: the wallet returned no document and
		// listed the doc types asked for in documentErrors (ISO/IEC
		// 18013-5 clause 8.3.2.1.2.3). The profile asks only for the doc
		// types it accepts, so for the policy none of them was presented:
		// doctype_not_allowed, while the report's errors keep not_returned
		// with the doc types and the wallet's error codes.
		d.Reasons = []string{CodeDocTypeNotAllowed}
		return d
	}
	if !res.Accepted() {
		for _, f := range res.Failures {
			d.Reasons = appendOnce(d.Reasons, string(f.Code))
		}
		if len(d.Reasons) == 0 {
			d.Reasons = []string{string(verify.CodeMalformed)}
		}
		if len(res.Documents) > 0 {
			// Nothing here is proven: the doc type and the certificate's
			// country may be anything the phone sent, and they go to logs,
			// the audit file and event streams.
			d.Document = 0
			d.DocType = res.Documents[0].ReportedDocType()
			d.IssuerCountry = printsafe.Clip(res.Documents[0].Issuer.Country, 8)
		}
		return d
	}
	var reasons []string
	for i := range res.Documents {
		doc := &res.Documents[i]
		if !slices.ContainsFunc(p.Documents, func(r DocumentRequest) bool { return r.DocType == doc.DocType }) {
			continue
		}
		codes := checkDocument(p, doc, now)
		if d.Document < 0 || len(codes) == 0 {
			d.Document, d.DocType, d.IssuerCountry = i, doc.DocType, doc.Issuer.Country
		}
		if len(codes) == 0 {
			d.Accept = true
			return d
		}
		for _, c := range codes {
			reasons = appendOnce(reasons, c)
		}
	}
	if d.Document < 0 {
		reasons = []string{CodeDocTypeNotAllowed}
		if len(res.Documents) > 0 {
			d.DocType = res.Documents[0].ReportedDocType()
			d.IssuerCountry = printsafe.Clip(res.Documents[0].Issuer.Country, 8)
		}
	}
	d.Reasons = reasons
	return d
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// checkDocument returns the codes of the conditions doc fails, in the order
// the profile lists them.
func checkDocument(p *Profile, doc *verify.DocumentResult, now time.Time) []string {
	var codes []string
	add := func(c string) { codes = appendOnce(codes, c) }
	if len(p.IssuerCountries) > 0 && !slices.Contains(p.IssuerCountries, strings.ToUpper(doc.Issuer.Country)) {
		add(CodeIssuerNotAllowed)
	}
	for _, id := range p.RequirePresent {
		if _, ok := p.find(doc, id); !ok {
			add(CodeElementMissing)
		}
	}
	for _, id := range p.RequireTrue {
		if c := p.checkTrue(doc, id); c != "" {
			add(c)
		}
	}
	if p.RequirePortrait {
		v, ok := p.find(doc, "portrait")
		if b, isBytes := v.([]byte); !ok || !isBytes || len(b) == 0 {
			add(CodeElementMissing)
		}
	}
	if p.NotExpired {
		if _, ok := p.find(doc, "expiry_date"); !ok && p.Requests(doc.DocType, "expiry_date") {
			add(CodeElementMissing)
		}
		// Every disclosed expiry_date counts against the document, whoever
		// signed it and wherever it is.
		for _, e := range doc.Elements {
			if e.Identifier == "expiry_date" && expired(e.Value, now) {
				add(CodeDocumentExpired)
			}
		}
	}
	return codes
}

// requestedIn reports whether the profile requests element id in name space
// ns of docType.
func (p *Profile) requestedIn(docType, ns, id string) bool {
	for _, d := range p.Documents {
		if d.DocType != docType {
			continue
		}
		for _, e := range d.Elements {
			if e.Namespace == ns && e.Identifier == id {
				return true
			}
		}
	}
	return false
}

// find returns the value of the issuer-signed element id that the profile
// requests in the element's name space for doc's doc type (ISO/IEC 18013-5
// clause 8.3.2.1.2.1): what a condition may rest on. Device-signed elements
// and elements of name spaces the profile does not ask id in are skipped.
func (p *Profile) find(doc *verify.DocumentResult, id string) (any, bool) {
	for _, e := range doc.Elements {
		if e.Identifier == id && !e.DeviceSigned && p.requestedIn(doc.DocType, e.Namespace, id) {
			return e.Value, true
		}
	}
	return nil, false
}

// checkTrue returns "" when element id is (or, for age_over_NN, is implied
// to be) true, else the reason code. A value other than true for id, or a
// false age_over_XX with XX < NN, anywhere in the document decides against;
// a true answer counts only as [Profile.find] allows.
func (p *Profile) checkTrue(doc *verify.DocumentResult, id string) string {
	nn, isAge := AgeOver(id)
	for _, e := range doc.Elements {
		b, isBool := e.Value.(bool)
		if e.Identifier == id && !(isBool && b) {
			if isAge {
				return CodeAgeNotMet
			}
			return CodeConditionNotMet
		}
		if xx, ok := AgeOver(e.Identifier); isAge && ok && xx < nn && isBool && !b {
			return CodeAgeNotMet
		}
	}
	if _, ok := p.find(doc, id); ok {
		return "" // true: every answer for id was true above
	}
	if !isAge {
		return CodeElementMissing
	}
	// Clause 7.2.5: an issuer-signed true age_over_XX with XX > NN, in a
	// name space the profile asks age_over_NN in, implies true.
	for _, e := range doc.Elements {
		xx, ok := AgeOver(e.Identifier)
		if !ok || xx <= nn || e.DeviceSigned || !p.requestedIn(doc.DocType, e.Namespace, id) {
			continue
		}
		if b, isBool := e.Value.(bool); isBool && b {
			return ""
		}
	}
	return CodeElementMissing
}

// expired reports whether an expiry_date value (full-date, or a tdate) is
// before the day of now. A value of another type counts as expired: the
// reader cannot show it is valid.
func expired(v any, now time.Time) bool {
	switch x := v.(type) {
	case mdoc.FullDate:
		y, m, d := now.Date()
		today := mdoc.FullDate{Year: y, Month: m, Day: d}
		return dateLess(x, today)
	case mdoc.TDate:
		return x.Before(now)
	}
	return true
}

func dateLess(a, b mdoc.FullDate) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	return a.Day < b.Day
}

// Holder returns what the kiosk display may show of a document under the
// profile's Display: the holder's name (given and family name of an mDL, or
// the My Number card's full_name_unicode) and the portrait bytes. Both are
// empty when the profile does not allow them.
func Holder(p *Profile, doc *verify.DocumentResult) (name string, portrait []byte) {
	if p.Display.Name {
		str := func(id string) string {
			v, _ := p.find(doc, id)
			s, _ := v.(string)
			return s
		}
		if n := str("full_name_unicode"); n != "" {
			name = n
		} else {
			name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
		}
	}
	if p.Display.Portrait {
		v, _ := p.find(doc, "portrait")
		portrait, _ = v.([]byte)
	}
	return name, portrait
}
