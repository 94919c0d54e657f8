package vical

import (
	"crypto/x509"
	"encoding/asn1"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/mdoc"
)

// VICAL is a decoded VICAL (ISO/IEC 18013-5 Annex C.1.7):
//
//	VICAL = {
//	  "version": tstr, "vicalProvider": tstr, "date": tdate,
//	  ? "vicalIssueID": uint, ? "nextUpdate": tdate,
//	  "certificateInfos": [* CertificateInfo],
//	  ? "vicalURL": tstr, ? "extensions": Extensions, * tstr => any }
//
// A VICAL from [Parse] is not verified; one from [Verify] is.
type VICAL struct {
	Version  string
	Provider string    // vicalProvider
	Date     time.Time // date: when the VICAL was issued
	// IssueID is vicalIssueID, nil when absent.
	IssueID *uint64
	// NextUpdate is when the next VICAL is due, zero when absent.
	NextUpdate time.Time
	URL        string // vicalURL, empty when absent
	// Extensions is the extensions map as received, nil when absent.
	Extensions cbor.RawMessage
	// Entries are the certificateInfos, in order.
	Entries []Entry
	// Chain is the x5chain of the COSE_Sign1, signer first. In a VICAL
	// from [Verify] Chain[0] is the verified signer.
	Chain []*x509.Certificate

	msg *cose.Message
}

// Entry is one CertificateInfo of a VICAL (Annex C.1.7):
//
//	CertificateInfo = {
//	  "certificate": bstr, "serialNumber": biguint, "ski": bstr,
//	  "docType": [+ DocType], ? "certificateProfile": [+ tstr],
//	  ? "issuingAuthority": tstr, ? "issuingCountry": tstr,
//	  ? "stateOrProvinceName": tstr, ? "issuer": bstr, ? "subject": bstr,
//	  ? "notBefore": tdate, ? "notAfter": tdate,
//	  ? "extensions": Extensions, * tstr => any }
type Entry struct {
	// Certificate is the IACA certificate. Its own validity period, not
	// NotBefore/NotAfter below, decides whether it is valid.
	Certificate  *x509.Certificate
	SerialNumber *big.Int
	// SKI is the ski member as received (see [Entry.KeyIdentifier]).
	SKI []byte
	// DocTypes are the only doc types the IACA is listed for.
	DocTypes            []string
	CertificateProfiles []string
	IssuingAuthority    string
	IssuingCountry      string
	StateOrProvinceName string
	// Issuer and Subject are DER Names as listed, nil when absent.
	Issuer, Subject []byte
	// NotBefore and NotAfter as listed, zero when absent.
	NotBefore, NotAfter time.Time
	Extensions          cbor.RawMessage
}

// KeyIdentifier returns the subject key identifier of the entry: SKI with
// the DER OCTET STRING wrappers removed that some VICALs keep. The AAMVA
// VICAL lists the whole extension value TLV, 04 16 04 14 ‖ keyid, rather
// than keyid. At most two wrappers are removed, and only when each spans
// the whole value.
func (e *Entry) KeyIdentifier() []byte {
	id := e.SKI
	for range 2 {
		var inner []byte
		if len(id) < 2 || id[0] != 0x04 {
			break
		}
		if rest, err := asn1.Unmarshal(id, &inner); err != nil || len(rest) != 0 {
			break
		}
		id = inner
	}
	return id
}

// Country returns the entry's issuingCountry, or the certificate's
// countryName when the entry has none.
func (e *Entry) Country() string {
	if e.IssuingCountry != "" {
		return e.IssuingCountry
	}
	if e.Certificate != nil && len(e.Certificate.Subject.Country) == 1 {
		return e.Certificate.Subject.Country[0]
	}
	return ""
}

// Parse decodes a VICAL, a COSE_Sign1 (tagged or not) with the VICAL as
// attached payload, without verifying anything: not the signature, not the
// chain, not the dates. Every entry's certificate must parse.
func Parse(data []byte) (*VICAL, error) {
	m, err := cose.ParseSign1(data)
	if err != nil {
		return nil, errorf(CodeMalformed, "%v", err)
	}
	if m.Detached {
		return nil, errorf(CodeMalformed, "VICAL COSE_Sign1 has no payload")
	}
	chain, err := m.Certificates()
	if err != nil {
		return nil, errorf(CodeMalformed, "%v", err)
	}
	v, err := parsePayload(m.Payload)
	if err != nil {
		return nil, err
	}
	v.Chain, v.msg = chain, m
	return v, nil
}

// members is a CBOR map with text keys. Its getters accept a member spelled
// with a capital first letter (the AAMVA quirk: "Extensions") when the
// spelling of the CDDL is absent; both spellings at once are malformed.
type members map[string]cbor.RawMessage

func (ms members) get(name string) (cbor.RawMessage, *Error) {
	v, ok := ms[name]
	r, _ := utf8.DecodeRuneInString(name)
	alt := string(unicode.ToUpper(r)) + name[utf8.RuneLen(r):]
	w, okAlt := ms[alt]
	switch {
	case ok && okAlt:
		return nil, errorf(CodeMalformed, "both %q and %q present", name, alt)
	case okAlt:
		return w, nil
	}
	return v, nil
}

// present returns the member's raw value, nil when it is absent and not
// required, and an error when it is required and absent.
func (ms members) present(name string, required bool) (cbor.RawMessage, *Error) {
	raw, e := ms.get(name)
	if e != nil {
		return nil, e
	}
	if raw == nil && required {
		return nil, errorf(CodeMalformed, "%q missing", name)
	}
	return raw, nil
}

func (ms members) text(name string, required bool, out *string) *Error {
	raw, e := ms.present(name, required)
	if e != nil || raw == nil {
		return e
	}
	if err := mdoc.Unmarshal(raw, out); err != nil {
		return errorf(CodeMalformed, "%q is not a text string", name)
	}
	return nil
}

func (ms members) bytes(name string, required bool, out *[]byte) *Error {
	raw, e := ms.present(name, required)
	if e != nil || raw == nil {
		return e
	}
	if err := mdoc.Unmarshal(raw, out); err != nil || *out == nil {
		return errorf(CodeMalformed, "%q is not a byte string", name)
	}
	return nil
}

func (ms members) texts(name string, required bool, out *[]string) *Error {
	raw, e := ms.present(name, required)
	if e != nil || raw == nil {
		return e
	}
	if err := mdoc.Unmarshal(raw, out); err != nil || len(*out) == 0 {
		return errorf(CodeMalformed, "%q is not a non-empty array of text strings", name)
	}
	return nil
}

func (ms members) date(name string, required bool, out *time.Time) *Error {
	raw, e := ms.present(name, required)
	if e != nil || raw == nil {
		return e
	}
	t, err := tdate(raw)
	if err != nil {
		return errorf(CodeMalformed, "%q: %v", name, err)
	}
	*out = t
	return nil
}

func (ms members) extensions(out *cbor.RawMessage) *Error {
	raw, e := ms.get("extensions")
	if e != nil {
		return e
	}
	if raw == nil {
		return nil
	}
	var m map[any]cbor.RawMessage
	if err := mdoc.Unmarshal(raw, &m); err != nil {
		return errorf(CodeMalformed, "\"extensions\" is not a map")
	}
	*out = raw
	return nil
}

// tdate decodes an RFC 8949 date: tag 0 with an RFC 3339 text string, or
// tag 1 with a number of seconds since the epoch.
func tdate(raw cbor.RawMessage) (time.Time, error) {
	var rt cbor.RawTag
	if err := mdoc.Unmarshal(raw, &rt); err != nil {
		return time.Time{}, errorf(CodeMalformed, "not a tagged date")
	}
	switch rt.Number {
	case 0:
		var s string
		if err := mdoc.Unmarshal(rt.Content, &s); err != nil {
			return time.Time{}, errorf(CodeMalformed, "tag 0 without a text string")
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, errorf(CodeMalformed, "tag 0 %q is not an RFC 3339 date", s)
		}
		return t.UTC(), nil
	case 1:
		var f float64
		if err := mdoc.Unmarshal(rt.Content, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
			return time.Time{}, errorf(CodeMalformed, "tag 1 without a usable number")
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, errorf(CodeMalformed, "date with tag %d", rt.Number)
}

func parsePayload(payload []byte) (*VICAL, error) {
	var ms members
	if err := mdoc.Unmarshal(payload, &ms); err != nil {
		return nil, errorf(CodeMalformed, "VICAL payload is not a map with text keys: %v", err)
	}
	v := &VICAL{}
	var id uint64
	for _, e := range []*Error{
		ms.text("version", true, &v.Version),
		ms.text("vicalProvider", true, &v.Provider),
		ms.date("date", true, &v.Date),
		ms.date("nextUpdate", false, &v.NextUpdate),
		ms.text("vicalURL", false, &v.URL),
		ms.extensions(&v.Extensions),
	} {
		if e != nil {
			return nil, e
		}
	}
	if raw, e := ms.get("vicalIssueID"); e != nil {
		return nil, e
	} else if raw != nil {
		if err := mdoc.Unmarshal(raw, &id); err != nil {
			return nil, errorf(CodeMalformed, "\"vicalIssueID\" is not an unsigned integer")
		}
		v.IssueID = &id
	}
	raw, e := ms.get("certificateInfos")
	if e != nil {
		return nil, e
	}
	if raw == nil {
		return nil, errorf(CodeMalformed, "\"certificateInfos\" missing")
	}
	var infos []members
	if err := mdoc.Unmarshal(raw, &infos); err != nil {
		return nil, errorf(CodeMalformed, "\"certificateInfos\" is not an array of maps")
	}
	v.Entries = make([]Entry, len(infos))
	for i, in := range infos {
		if err := parseEntry(in, &v.Entries[i]); err != nil {
			err.Detail = "certificateInfos[" + strconv.Itoa(i) + "]: " + err.Detail
			return nil, err
		}
	}
	return v, nil
}

func parseEntry(ms members, e *Entry) *Error {
	var der []byte
	for _, err := range []*Error{
		ms.bytes("certificate", true, &der),
		ms.bytes("ski", true, &e.SKI),
		ms.texts("docType", true, &e.DocTypes),
		ms.texts("certificateProfile", false, &e.CertificateProfiles),
		ms.text("issuingAuthority", false, &e.IssuingAuthority),
		ms.text("issuingCountry", false, &e.IssuingCountry),
		ms.text("stateOrProvinceName", false, &e.StateOrProvinceName),
		ms.bytes("issuer", false, &e.Issuer),
		ms.bytes("subject", false, &e.Subject),
		ms.date("notBefore", false, &e.NotBefore),
		ms.date("notAfter", false, &e.NotAfter),
		ms.extensions(&e.Extensions),
	} {
		if err != nil {
			return err
		}
	}
	raw, err := ms.get("serialNumber")
	if err != nil {
		return err
	}
	if raw == nil {
		return errorf(CodeMalformed, "\"serialNumber\" missing")
	}
	// biguint: an unsigned integer or tag 2 with a byte string (RFC 8949
	// section 3.4.3).
	var n big.Int
	if err := mdoc.Unmarshal(raw, &n); err != nil || n.Sign() < 0 {
		return errorf(CodeMalformed, "\"serialNumber\" is not an unsigned integer")
	}
	e.SerialNumber = &n
	c, perr := x509.ParseCertificate(der)
	if perr != nil {
		return errorf(CodeMalformed, "certificate: %v", perr)
	}
	e.Certificate = c
	return nil
}
