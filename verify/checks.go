package verify

import (
	"fmt"
	"strconv"

	"github.com/idreader/idreader/mdoc"
)

// need is the state a check cannot run without.
type need int

const (
	needNothing need = iota
	needIssuer       // a parsed issuerAuth with a DS certificate
	needMSO          // that, and a decoded, supported MSO
	needIACA         // a DS certificate and the trust anchor that signed it
)

// outcome is what a check step found: passed with a detail, failed with an
// error wrapping a sentinel, or not run for a reason.
type outcome struct {
	err    error
	detail string // when passed
	skip   string // when not run: why
}

func passed(detail string) outcome { return outcome{detail: detail} }
func failed(err error) outcome     { return outcome{err: err} }
func skipped(why string) outcome   { return outcome{skip: why} }

// step is one named check of clause 9.3.1.
type step struct {
	name string
	// needs is checked before run; when it is not met, the check is
	// reported as not checked.
	needs need
	// enabled, when set, decides whether the check is part of this
	// verification at all (a check that is not enabled is not reported).
	enabled func(*Options) bool
	run     func(*docVerifier) outcome
}

// steps is the check list, in report order. Each step reads what earlier
// steps left in the docVerifier.
var steps = []step{
	{name: CheckIssuerCertificate, run: (*docVerifier).issuerCertificate},
	{name: CheckIssuerChain, needs: needIssuer, run: (*docVerifier).issuerChain},
	{name: CheckAnchorDocType, needs: needIACA, run: (*docVerifier).anchorDocType},
	{name: CheckCertificateProfile, needs: needIssuer, run: (*docVerifier).certificateProfile},
	{name: CheckCertificateValidity, needs: needIssuer, run: (*docVerifier).certificateValidity},
	{name: CheckIssuerSignature, needs: needIssuer, run: (*docVerifier).issuerSignature},
	{name: CheckMSO, needs: needIssuer, run: (*docVerifier).parseMSO},
	{name: CheckDocType, needs: needMSO, run: (*docVerifier).docType},
	{name: CheckMSOValidity, needs: needMSO, run: (*docVerifier).msoValidity},
	{name: CheckRevocation, needs: needIACA, run: (*docVerifier).revocation,
		enabled: func(o *Options) bool { return o.Revocation != nil }},
	{name: CheckValueDigests, needs: needMSO, run: (*docVerifier).valueDigestsStep},
	{name: CheckIssuingCountry, needs: needMSO, run: (*docVerifier).issuingCountry},
	{name: CheckKeyAuthorizations, needs: needMSO, run: (*docVerifier).keyAuthorizations},
	{name: CheckDeviceAuth, needs: needMSO, run: (*docVerifier).deviceAuthStep},
}

// CheckNames returns the names of all checks in report order, including
// the ones reported only when configured.
func CheckNames() []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.name
	}
	return out
}

// unmet returns why a step's need is not met, "" when it is.
func (v *docVerifier) unmet(n need) string {
	switch {
	case n == needNothing:
		return ""
	case v.ds == nil:
		return "no usable issuerAuth"
	case n == needIACA:
		if v.iaca == nil {
			return "IACA unknown"
		}
		return ""
	case n == needMSO && v.mso == nil:
		return "no usable MSO"
	}
	return ""
}

// verifyDocument runs the check list of clause 9.3.1 on one document,
// going as far as the failures allow, then decides which elements count as
// proven.
func verifyDocument(doc *mdoc.Document, opts *Options, tr *transcript, trErr error) DocumentResult {
	out := DocumentResult{DocType: doc.DocType}
	v := &docVerifier{doc: doc, opts: opts, out: &out, tr: tr, trErr: trErr}
	if doc.DeviceSigned.DeviceSignature != nil {
		out.DeviceAuth = DeviceAuthSignature
	} else {
		out.DeviceAuth = DeviceAuthMAC
	}
	out.Checks = make([]Check, 0, len(steps))
	for i := range steps {
		s := &steps[i]
		if s.enabled != nil && !s.enabled(opts) {
			continue
		}
		if why := v.unmet(s.needs); why != "" {
			v.skip(s.name, why)
			continue
		}
		o := s.run(v)
		switch {
		case o.skip != "":
			v.skip(s.name, o.skip)
		case o.err != nil:
			v.fail(s.name, o.err)
		default:
			v.pass(s.name, o.detail)
		}
	}

	// A digest that matches an MSO nobody trusted signed proves nothing:
	// such elements are not reported as disclosed values. Neither are those
	// of a signer the revocation checker did not vouch for.
	if !v.issuerProven() {
		out.Elements = nil
	}
	// Device-signed elements count when the device key signed them and was
	// authorized to.
	if len(v.devNS) > 0 && out.passed(CheckDeviceAuth) && out.passed(CheckKeyAuthorizations) {
		v.addDeviceElements(v.devNS)
	}
	return out
}

// issuerProven reports whether the issuer side holds: the DS chains to the
// trust store through an anchor trusted for the doc type, its signature
// over the MSO verifies, and the revocation checker, when there is one,
// vouches for it.
func (v *docVerifier) issuerProven() bool {
	if !v.out.passed(CheckIssuerChain) || !v.out.passed(CheckAnchorDocType) || !v.out.passed(CheckIssuerSignature) {
		return false
	}
	c, ok := v.out.Check(CheckRevocation)
	return !ok || c.OK
}

// Issuer data authentication, clause 9.1.2.4: issuerAuth is a COSE_Sign1
// with the DS certificate in x5chain and the MSO as payload.
func (v *docVerifier) issuerCertificate() outcome {
	sign1, err := parseSign1(v.doc.IssuerSigned.IssuerAuth)
	if err != nil {
		return failed(err)
	}
	ds, err := dsCertificate(sign1, v.opts.Trust)
	if err != nil {
		return failed(err)
	}
	v.sign1, v.ds, v.dsKey = sign1, ds.cert, ds.key
	v.out.Issuer = Issuer{Subject: ds.subject, Country: country(ds.cert), Certificate: ds.cert}
	return passed("DS certificate " + ds.subject)
}

func (v *docVerifier) issuerChain() outcome {
	iaca, err := findIACA(v.opts.Trust, v.ds, v.doc.DocType)
	if err != nil {
		return failed(err)
	}
	v.iaca = iaca
	v.out.Issuer.IACA = iaca
	return passed("signed by IACA " + iaca.Subject.CommonName)
}

// anchorDocType: an anchor whose source lists it only for certain doc types
// (a VICAL's docType list, ISO/IEC 18013-5 Annex C) does not vouch for a
// document of another doc type. The failure is issuer_untrusted: for this
// document the issuer is not trusted.
func (v *docVerifier) anchorDocType() outcome {
	info, _ := v.opts.Trust.Anchor(v.iaca)
	if !info.allows(v.doc.DocType) {
		src := info.Source
		if src == "" {
			src = "its source"
		}
		return failed(fmt.Errorf("%w: IACA %q is listed by %s only for doc types %v, not for %q",
			ErrIssuerUntrusted, v.iaca.Subject.CommonName, src, info.DocTypes, v.doc.DocType))
	}
	if len(info.DocTypes) == 0 {
		return passed("IACA trusted for every doc type")
	}
	return passed(fmt.Sprintf("IACA trusted for %q", v.doc.DocType))
}

// certificateProfile: Annex B profiles of DS and IACA, and their countries.
// A DS that breaks its profile fails even when the IACA is unknown.
func (v *docVerifier) certificateProfile() outcome {
	err := checkDSProfile(v.ds)
	if err == nil && v.iaca != nil {
		err = checkIACAProfile(v.iaca)
		if err == nil {
			err = checkCountries(v.ds, v.iaca)
		}
	}
	switch {
	case err != nil:
		return failed(err)
	case v.iaca == nil:
		return skipped("IACA unknown")
	}
	return passed("DS and IACA profiles (Annex B), country " + v.out.Issuer.Country)
}

func (v *docVerifier) certificateValidity() outcome {
	err := checkValidity(v.ds, "DS", v.opts.Now)
	if err == nil && v.iaca != nil {
		err = checkValidity(v.iaca, "IACA", v.opts.Now)
	}
	switch {
	case err != nil:
		return failed(err)
	case v.iaca == nil:
		return skipped("IACA unknown")
	}
	return passed("DS and IACA valid at the verification time")
}

// issuerSignature checks the signature over the MSO as received (RFC 9052
// section 4.4).
func (v *docVerifier) issuerSignature() outcome {
	if v.sign1.Detached {
		return failed(fmt.Errorf("%w: issuerAuth has no payload", ErrMalformed))
	}
	if err := coseErr(v.sign1.VerifySignature(v.dsKey, v.sign1.Payload)); err != nil {
		if CodeOf(err) == "" {
			err = fmt.Errorf("%w: %w", ErrIssuerSignature, err)
		}
		return failed(err)
	}
	return passed(v.sign1.Alg.String() + " by the DS key")
}

func (v *docVerifier) parseMSO() outcome {
	mso, h, err := parseMSO(v.sign1)
	if err != nil {
		return failed(err)
	}
	v.mso, v.msoDigest = mso, h
	v.out.MSO = mso
	return passed("MSO " + mso.Version + ", " + mso.DigestAlgorithm)
}

// docType: clause 9.3.1, the MSO docType equals the Document docType.
func (v *docVerifier) docType() outcome {
	if v.mso.DocType != v.doc.DocType {
		return failed(fmt.Errorf("%w: MSO docType %q, document docType %q", ErrDocTypeMismatch, v.mso.DocType, v.doc.DocType))
	}
	return passed(v.doc.DocType)
}

func (v *docVerifier) msoValidity() outcome {
	if err := checkMSOValidity(&v.mso.ValidityInfo, v.ds, v.opts.Now); err != nil {
		return failed(err)
	}
	return passed("MSO valid at the verification time")
}

func (v *docVerifier) valueDigestsStep() outcome {
	c, err := v.valueDigests(v.mso, v.msoDigest)
	v.country = c
	if err != nil {
		return failed(err)
	}
	return passed(strconv.Itoa(v.issuerElementCount()) + " issuer-signed elements match the MSO")
}

// issuingCountry: issuing_country, when disclosed, equals the countryName
// of the DS and the IACA (Annex B).
func (v *docVerifier) issuingCountry() outcome {
	switch {
	case v.country == nil || !v.issuerProven():
		return passed("issuing_country not disclosed")
	case v.iaca == nil:
		return skipped("IACA unknown")
	}
	c := *v.country
	if c != v.out.Issuer.Country || c != country(v.iaca) {
		return failed(fmt.Errorf("%w: issuing_country %q, DS country %q, IACA country %q", ErrCertificateProfile, c, v.out.Issuer.Country, country(v.iaca)))
	}
	return passed("issuing_country " + c)
}

// keyAuthorizations: device authentication, clause 9.1.2.4 and 9.1.3.
func (v *docVerifier) keyAuthorizations() outcome {
	devNS, err := v.doc.DeviceSigned.DeviceNameSpaces()
	if err == nil {
		err = checkKeyAuthorizations(v.mso, devNS)
	}
	v.devNS = devNS
	if err != nil {
		return failed(err)
	}
	return passed(strconv.Itoa(countDevice(devNS)) + " device-signed elements authorized")
}

func (v *docVerifier) deviceAuthStep() outcome {
	if v.trErr != nil {
		return failed(v.trErr)
	}
	if err := v.deviceAuth(v.mso, v.tr); err != nil {
		return failed(err)
	}
	if v.out.DeviceAuth == DeviceAuthSignature {
		return passed("deviceSignature by the MSO device key")
	}
	return passed("deviceMac with EMacKey from the MSO device key")
}
