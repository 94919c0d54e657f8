package verify

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
)

// Report is the JSON form of a Result, shared by `idreader verify`,
// `idreader read` and the daemon:
//
//	{"verdict": "accept"|"reject",
//	 "documents": [{"docType", "issuer": {"subject", "country"}, "deviceAuth": "signature"|"mac",
//	                "elements": {namespace: {name: value}},
//	                "deviceSigned": {namespace: {name: value}},
//	                "checks": [{"check", "ok", "detail"}],
//	                "notReturned": [{"namespace", "element", "errorCode"}],
//	                "unrequested": n}],
//	 "errors": [{"code", "detail"}],
//	 "documentErrors": [{"docType", "errorCode"}]}
//
// notReturned (requested elements the wallet listed in the Document's
// errors), unrequested (how many elements it disclosed that the request did
// not ask for; their values are never reported) and documentErrors (doc
// types the wallet did not return) are left out when empty.
//
// elements holds issuer-signed elements only; device-signed elements
// (ISO/IEC 18013-5 clause 8.3.2.1.2.2 DeviceNameSpaces, proven by the device
// key, not by the issuer) go to deviceSigned in the same shape, so a value the
// holder's device signed can never stand in for the issuer's. A doc type that
// was not proven (issuer signature and MSO docType) is escaped and cut.
//
// Element values: text, numbers and booleans as themselves, full-date as
// "YYYY-MM-DD", tdate as RFC 3339, byte strings as standard padded base64,
// maps and arrays as JSON objects and arrays. Only proven elements appear
// (see [Element]). documents and errors are always arrays.
type Report struct {
	Verdict        string                `json:"verdict"`
	Documents      []DocumentReport      `json:"documents"`
	Errors         []ErrorReport         `json:"errors"`
	DocumentErrors []DocumentErrorReport `json:"documentErrors,omitempty"`
}

// DocumentErrorReport is a doc type the wallet did not return, with the
// wallet's error code (ISO/IEC 18013-5 clause 8.3.2.1.2.3).
type DocumentErrorReport struct {
	DocType   string `json:"docType"`
	ErrorCode int64  `json:"errorCode"`
}

// NotReturnedReport is a requested element the wallet did not return, with
// the wallet's error code (ISO/IEC 18013-5 clause 8.3.2.1.2.2).
type NotReturnedReport struct {
	Namespace string `json:"namespace"`
	Element   string `json:"element"`
	ErrorCode int64  `json:"errorCode"`
}

// Verdicts of a Report.
const (
	VerdictAccept = "accept"
	VerdictReject = "reject"
)

// DocumentReport is one document of a Report.
type DocumentReport struct {
	DocType    string                    `json:"docType"`
	Issuer     IssuerReport              `json:"issuer"`
	DeviceAuth string                    `json:"deviceAuth"`
	Elements   map[string]map[string]any `json:"elements"`
	// DeviceSigned holds the device-signed elements, in the shape of
	// Elements; it is always present, empty when there are none.
	DeviceSigned map[string]map[string]any `json:"deviceSigned"`
	Checks       []CheckReport             `json:"checks"`
	// NotReturned and Unrequested: see [Report].
	NotReturned []NotReturnedReport `json:"notReturned,omitempty"`
	Unrequested int                 `json:"unrequested,omitempty"`
}

// IssuerReport names the document signer.
type IssuerReport struct {
	Subject string `json:"subject"`
	Country string `json:"country"`
}

// CheckReport is one check of a DocumentReport.
type CheckReport struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// ErrorReport is one failure with its reason code.
type ErrorReport struct {
	Code   Code   `json:"code"`
	Detail string `json:"detail"`
}

// Report returns the JSON-ready form of the result.
func (r *Result) Report() Report {
	rep := Report{Verdict: VerdictReject, Documents: []DocumentReport{}, Errors: []ErrorReport{}}
	if r.Accepted() {
		rep.Verdict = VerdictAccept
	}
	for i := range r.Documents {
		d := &r.Documents[i]
		dr := DocumentReport{
			DocType:      d.ReportedDocType(),
			Issuer:       IssuerReport{Subject: d.Issuer.Subject, Country: d.Issuer.Country},
			DeviceAuth:   d.DeviceAuth,
			Elements:     map[string]map[string]any{},
			DeviceSigned: map[string]map[string]any{},
			Checks:       make([]CheckReport, len(d.Checks)),
			Unrequested:  d.Unrequested,
		}
		for _, n := range d.NotReturned {
			dr.NotReturned = append(dr.NotReturned, NotReturnedReport{Namespace: n.Namespace, Element: n.Identifier, ErrorCode: n.ErrorCode})
		}
		for _, e := range d.Elements {
			into := dr.Elements
			if e.DeviceSigned {
				into = dr.DeviceSigned
			}
			ns := into[e.Namespace]
			if ns == nil {
				ns = map[string]any{}
				into[e.Namespace] = ns
			}
			ns[e.Identifier] = JSONValue(e.Value)
		}
		for j, c := range d.Checks {
			dr.Checks[j] = CheckReport{Check: c.Name, OK: c.OK, Detail: c.Detail}
		}
		rep.Documents = append(rep.Documents, dr)
	}
	for _, f := range r.Failures {
		rep.Errors = append(rep.Errors, ErrorReport{Code: f.Code, Detail: f.Detail})
	}
	for _, e := range r.DocumentErrors {
		rep.DocumentErrors = append(rep.DocumentErrors, DocumentErrorReport(e))
	}
	if rep.Verdict == VerdictReject && len(rep.Errors) == 0 {
		rep.Errors = append(rep.Errors, ErrorReport{Code: CodeMalformed, Detail: "nothing was proven"})
	}
	return rep
}

// DocTypeProven reports whether the document's docType is the one the issuer
// signed: the issuer signature verified and the MSO docType equals it.
func (d *DocumentResult) DocTypeProven() bool {
	return d.passed(CheckIssuerSignature) && d.passed(CheckDocType)
}

// ReportedDocType is the doc type to show, log or report: as received when
// proven, otherwise escaped and cut ([SafeDocType]).
func (d *DocumentResult) ReportedDocType() string {
	if d.DocTypeProven() {
		return d.DocType
	}
	return SafeDocType(d.DocType)
}

// MarshalJSON encodes the result as its [Report].
func (r *Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(r.Report())
}

// JSONValue converts a decoded element value (mdoc.DecodeElementValue) to a
// value encoding/json writes in the Report form: FullDate and TDate become
// strings, []byte stays (base64), map keys become strings, big integers
// become JSON numbers, and other tags become their content.
func JSONValue(v any) any {
	switch x := v.(type) {
	case mdoc.FullDate:
		return x.String()
	case mdoc.TDate:
		return x.Format("2006-01-02T15:04:05.999999999Z07:00")
	case *big.Int:
		return json.Number(x.String())
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x) // JSON has no NaN or infinity
		}
		return x
	case mdoc.DrivingPrivileges:
		out := make([]any, len(x))
		for i, p := range x {
			m := map[string]any{"vehicle_category_code": p.VehicleCategoryCode}
			if p.IssueDate != nil {
				m["issue_date"] = p.IssueDate.String()
			}
			if p.ExpiryDate != nil {
				m["expiry_date"] = p.ExpiryDate.String()
			}
			if len(p.Codes) > 0 {
				codes := make([]any, len(p.Codes))
				for j, c := range p.Codes {
					cm := map[string]any{"code": c.Code}
					if c.Sign != "" {
						cm["sign"] = c.Sign
					}
					if c.Value != "" {
						cm["value"] = c.Value
					}
					codes[j] = cm
				}
				m["codes"] = codes
			}
			out[i] = m
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = JSONValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = JSONValue(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		vals := make(map[string]any, len(x))
		for k, e := range x {
			ks := fmt.Sprint(JSONValue(k))
			keys = append(keys, ks)
			vals[ks] = e
		}
		sort.Strings(keys)
		for _, k := range keys {
			out[k] = JSONValue(vals[k])
		}
		return out
	case cbor.Tag:
		return JSONValue(x.Content)
	case cbor.ByteString:
		return []byte(x)
	}
	return v
}
