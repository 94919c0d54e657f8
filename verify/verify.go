package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/internal/p256"
	"github.com/idreader/idreader/internal/smallset"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// Options are the inputs of a verification besides the response itself.
type Options struct {
	// Trust holds the IACA roots. A nil or empty store trusts no issuer.
	Trust *TrustStore
	// Now is the verification time for certificate and MSO validity.
	Now time.Time
	// SessionTranscript is SessionTranscriptBytes (tag-24 wrapped) or the
	// bare SessionTranscript array, as used in the session (clause 9.1.5.1).
	// Without it device authentication cannot be proven and fails.
	SessionTranscript []byte
	// ReaderKey is the reader's ephemeral private key (EReaderKey), needed to
	// check a deviceMac (clause 9.1.3.5). Without it a deviceMac fails.
	ReaderKey *ecdh.PrivateKey
	// Request is what the reader asked for (the ItemsRequests of its
	// DeviceRequest, clause 8.3.2.1.2.1). When set, only requested elements
	// are kept in the result; the others are still verified against the
	// MSO but only counted (DocumentResult.Unrequested), their values never
	// kept. Nil keeps every proven element.
	Request []mdoc.ItemsRequest
	// Revocation, when set, is asked about every document whose DS
	// certificate chains to the trust store; its answer is the check
	// [CheckRevocation]. Nil means no revocation check, and no such check
	// in the result.
	Revocation RevocationChecker
}

// MaxDocuments bounds the documents of one DeviceResponse that Verify will
// look at. A reader asks for a few doc types (clause 8.3.2.1.2.1) and a
// wallet returns at most one document per request, while every document
// costs certificate, issuer and device signature checks: a response with more
// is refused as malformed without verifying any, so that a hostile wallet
// cannot make one tap cost seconds of CPU.
const MaxDocuments = 16

// Names of the checks, in the order they appear in a DocumentResult (see
// [CheckNames]).
const (
	CheckIssuerCertificate   = "issuer_certificate"   // x5chain holds a parsable DS certificate
	CheckIssuerChain         = "issuer_chain"         // DS signed by an IACA of the store
	CheckAnchorDocType       = "anchor_doctype"       // that IACA is trusted for the document's doc type
	CheckCertificateProfile  = "certificate_profile"  // Annex B DS and IACA profiles, countries
	CheckCertificateValidity = "certificate_validity" // DS and IACA valid at Now
	CheckIssuerSignature     = "issuer_signature"     // issuerAuth COSE_Sign1 over the MSO
	CheckMSO                 = "mso"                  // MSO decodes; version and digest algorithm supported
	CheckDocType             = "doctype"              // MSO docType == Document docType
	CheckMSOValidity         = "mso_validity"         // signed ≤ Now, validFrom ≤ Now ≤ validUntil
	CheckRevocation          = "revocation"           // Options.Revocation says good (only with a checker)
	CheckValueDigests        = "value_digests"        // every disclosed element's digest in the MSO
	CheckIssuingCountry      = "issuing_country"      // issuing_country == DS and IACA country
	CheckKeyAuthorizations   = "key_authorizations"   // device-signed elements authorized
	CheckDeviceAuth          = "device_auth"          // deviceSignature or deviceMac
)

// Check is the outcome of one verification step for one document. A check
// that could not run because an earlier one failed has OK false, a Detail
// starting "not checked" and no Err (the earlier failure carries the code).
type Check struct {
	Name   string
	OK     bool
	Detail string
	// Err wraps one of the sentinel errors when the check failed.
	Err error
}

// Element is one disclosed data element whose integrity was proven: an
// issuer-signed element whose value digest matched the MSO, or a
// device-signed element (proven by device authentication).
type Element struct {
	Namespace    string
	Identifier   string
	Value        any             // see mdoc.DecodeElementValue
	Raw          cbor.RawMessage // the elementValue as received
	DeviceSigned bool
}

// Issuer describes the document signer.
type Issuer struct {
	Subject string // DS certificate subject, RFC 2253 form
	Country string // DS certificate countryName
	// Certificate is the DS certificate; IACA the trust anchor that signed
	// it (nil when untrusted).
	Certificate *x509.Certificate
	IACA        *x509.Certificate
}

// Device authentication methods (clause 9.1.3).
const (
	DeviceAuthSignature = "signature"
	DeviceAuthMAC       = "mac"
)

// DocumentResult is the verification of one Document.
type DocumentResult struct {
	DocType    string
	Issuer     Issuer
	DeviceAuth string // DeviceAuthSignature or DeviceAuthMAC
	Elements   []Element
	Checks     []Check
	// MSO is the decoded Mobile Security Object, nil if it did not decode.
	MSO *mdoc.MSO
	// NotReturned lists the requested elements the wallet named in the
	// Document's errors instead of disclosing them (clause 8.3.2.1.2.2),
	// apart from any it disclosed anyway; sorted.
	NotReturned []NotReturned
	// Unrequested counts the elements the wallet disclosed although
	// Options.Request did not ask for them; they are not in Elements.
	Unrequested int
}

// Check returns the named check of the document, false when it is not
// in the result (a check reported only when configured, such as
// [CheckRevocation]).
func (d *DocumentResult) Check(name string) (Check, bool) {
	for _, c := range d.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// passed reports whether the named check ran and succeeded.
func (d *DocumentResult) passed(name string) bool {
	c, ok := d.Check(name)
	return ok && c.OK
}

// OK reports whether every check of the document passed.
func (d *DocumentResult) OK() bool {
	if len(d.Checks) == 0 {
		return false
	}
	for _, c := range d.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failure is one reason for rejection.
type Failure struct {
	Code   Code
	Detail string
	Err    error
}

// Result is the verification of a whole DeviceResponse.
type Result struct {
	// Response is the parsed response, nil when it did not decode.
	Response  *mdoc.DeviceResponse
	Documents []DocumentResult
	Failures  []Failure
	// DocumentErrors lists the doc types the wallet named in documentErrors
	// (clause 8.3.2.1.2.3), in the order received.
	DocumentErrors []DocumentError
}

// Accepted reports whether the response is proven: it decoded, has status 0
// and at least one document, and every check of every document passed.
func (r *Result) Accepted() bool {
	if r == nil || r.Response == nil || len(r.Failures) > 0 || len(r.Documents) == 0 {
		return false
	}
	for i := range r.Documents {
		if !r.Documents[i].OK() {
			return false
		}
	}
	return true
}

// Err returns nil when the result is accepted, otherwise all failures joined;
// each wraps its sentinel error, so errors.Is(err, ErrValueDigest) works.
func (r *Result) Err() error {
	if r.Accepted() {
		return nil
	}
	if len(r.Failures) == 0 {
		return fmt.Errorf("%w: nothing was proven", ErrMalformed)
	}
	errs := make([]error, len(r.Failures))
	for i, f := range r.Failures {
		errs[i] = f.Err
	}
	return errors.Join(errs...)
}

func (r *Result) fail(err error, format string, args ...any) {
	code := CodeOf(err)
	if code == "" {
		code = CodeMalformed
		err = fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	r.Failures = append(r.Failures, Failure{Code: code, Detail: clipDetail(fmt.Sprintf(format, args...)), Err: bound(err, maxErrorText)})
}

// Verify parses and verifies a DeviceResponse (ISO/IEC 18013-5 clause 9.3.1).
// It always returns a non-nil Result; the error is Result.Err(). The Result
// keeps a private copy of the response's bytes.
func Verify(response []byte, opts Options) (*Result, error) {
	return verifyBytes(response, opts, mdoc.ParseDeviceResponse)
}

// VerifyNoCopy is [Verify] for a response the caller hands over: the Result
// aliases response instead of a copy of it, so response must not change
// while the Result is in use. The terminal hands over the plaintext it has
// just decrypted.
func VerifyNoCopy(response []byte, opts Options) (*Result, error) {
	return verifyBytes(response, opts, mdoc.ParseDeviceResponseNoCopy)
}

func verifyBytes(response []byte, opts Options, parse func([]byte) (*mdoc.DeviceResponse, error)) (*Result, error) {
	res := &Result{}
	r, err := parse(response)
	if err != nil {
		res.fail(fmt.Errorf("%w: %w", ErrMalformed, err), "%v", err)
		return res, res.Err()
	}
	res.Response = r
	res.verifyResponse(r, &opts)
	return res, res.Err()
}

// VerifyResponse verifies an already parsed DeviceResponse.
func VerifyResponse(r *mdoc.DeviceResponse, opts Options) (*Result, error) {
	res := &Result{Response: r}
	res.verifyResponse(r, &opts)
	return res, res.Err()
}

func (res *Result) verifyResponse(r *mdoc.DeviceResponse, opts *Options) {
	// Clause 8.3.2.1.2.2: version "1.0"; status 0 = OK (table 8).
	if r.Version != "1.0" {
		res.fail(fmt.Errorf("%w: DeviceResponse version %q", ErrUnsupported, r.Version), "device response version %q is not supported", r.Version)
	}
	if r.Status != mdoc.StatusOK {
		res.fail(fmt.Errorf("%w: DeviceResponse status %d", ErrMalformed, r.Status), "device response status %d (%s)", r.Status, statusText(r.Status))
	}
	if len(r.Documents) == 0 {
		res.noDocuments(r)
	}
	if len(r.Documents) > MaxDocuments {
		res.fail(fmt.Errorf("%w: DeviceResponse with %d documents", ErrMalformed, len(r.Documents)), "device response has %d documents, more than %d", len(r.Documents), MaxDocuments)
		return
	}
	tr, trErr := parseTranscript(opts.SessionTranscript)
	for i := range r.Documents {
		d := verifyDocument(&r.Documents[i], opts, tr, trErr)
		for _, c := range d.Checks {
			if c.Err != nil {
				res.Failures = append(res.Failures, Failure{Code: CodeOf(c.Err), Detail: clipDetail(SafeDocType(d.DocType) + ": " + c.Detail), Err: c.Err})
			}
		}
		res.Documents = append(res.Documents, d)
	}
	res.answered(r, opts.Request)
	res.boundFailures()
}

func statusText(s uint64) string {
	switch s {
	case mdoc.StatusGeneralError:
		return "general error"
	case mdoc.StatusCBORDecodingError:
		return "CBOR decoding error"
	case mdoc.StatusCBORValidationError:
		return "CBOR validation error"
	}
	return "unknown status"
}

// transcript holds both forms of the SessionTranscript: the bare array that
// DeviceAuthentication embeds, and the tag-24 bytes the HKDF salt hashes.
type transcript struct {
	bare, tagged []byte
}

// parseTranscript accepts SessionTranscriptBytes or the bare array.
func parseTranscript(b []byte) (*transcript, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: no session transcript given: device authentication not proven", ErrDeviceAuth)
	}
	if b[0]>>5 == 6 {
		inner, err := mdoc.SplitTag24(b)
		if err != nil {
			return nil, fmt.Errorf("%w: session transcript: %w", ErrDeviceAuth, err)
		}
		if len(inner) == 0 || inner[0]>>5 != 4 {
			return nil, fmt.Errorf("%w: session transcript is not an array", ErrDeviceAuth)
		}
		if err := mdoc.DecMode().Wellformed(inner); err != nil {
			return nil, fmt.Errorf("%w: session transcript: %v", ErrDeviceAuth, err)
		}
		return &transcript{bare: inner, tagged: b}, nil
	}
	if b[0]>>5 != 4 {
		return nil, fmt.Errorf("%w: session transcript is neither tag 24 nor an array", ErrDeviceAuth)
	}
	if err := mdoc.DecMode().Wellformed(b); err != nil {
		return nil, fmt.Errorf("%w: session transcript: %v", ErrDeviceAuth, err)
	}
	t, err := mdoc.NewTaggedCBOR(b)
	if err != nil {
		return nil, fmt.Errorf("%w: session transcript: %v", ErrDeviceAuth, err)
	}
	return &transcript{bare: b, tagged: t.Raw}, nil
}

// docVerifier carries the state of one document's verification: the inputs,
// the result being built, and what the steps found for the later ones.
type docVerifier struct {
	doc   *mdoc.Document
	opts  *Options
	out   *DocumentResult
	tr    *transcript
	trErr error

	sign1     *cose.Message // issuerAuth
	ds        *x509.Certificate
	dsKey     crypto.PublicKey  // verifies the MSO signature: ds's key, maybe prepared
	iaca      *x509.Certificate // nil when untrusted
	mso       *mdoc.MSO
	msoDigest digestAlg
	country   *string // issuing_country when disclosed and proven
	devNS     map[string]map[string]cbor.RawMessage
}

func (v *docVerifier) pass(name, detail string) {
	v.out.Checks = append(v.out.Checks, Check{Name: name, OK: true, Detail: clipDetail(detail)})
}

func (v *docVerifier) fail(name string, err error) {
	if CodeOf(err) == "" {
		err = fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	err = bound(err, maxErrorText)
	v.out.Checks = append(v.out.Checks, Check{Name: name, Detail: clipDetail(name + ": " + err.Error()), Err: err})
}

func (v *docVerifier) skip(name, why string) {
	v.out.Checks = append(v.out.Checks, Check{Name: name, Detail: "not checked: " + why})
}

// dsCertificate returns the first x5chain certificate, its subject and the
// key that verifies its signatures: Annex B NOTE 1, only the DS certificate
// is used; the IACA comes from the trust store. A certificate the store's
// cache knows may come with its key prepared (internal/p256); the cache asks
// for that once the DS has come back often enough, and it is done here.
func dsCertificate(m *cose.Message, store *TrustStore) (cachedDS, error) {
	chain, err := m.X5Chain()
	if err != nil {
		return cachedDS{}, coseErr(err)
	}
	if store != nil {
		if d, ok := store.cache.certificate(chain[0]); ok {
			if d.prepare != nil {
				if k, err := p256.Prepare(d.prepare); err == nil {
					store.cache.prepared(chain[0], k)
					d.key = k
				}
			}
			return d, nil
		}
	}
	c, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return cachedDS{}, fmt.Errorf("%w: DS certificate: %v", ErrMalformed, err)
	}
	return cachedDS{cert: c, subject: c.Subject.String(), key: c.PublicKey}, nil
}

// parseMSO decodes the issuerAuth payload and checks version and digest
// algorithm (clause 9.1.2.4).
func parseMSO(m *cose.Message) (*mdoc.MSO, digestAlg, error) {
	if m.Detached {
		return nil, 0, fmt.Errorf("%w: issuerAuth has no payload", ErrMalformed)
	}
	mso, err := mdoc.ParseMobileSecurityObjectBytes(m.Payload)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if mso.Version != mdoc.MSOVersion {
		return nil, 0, fmt.Errorf("%w: MSO version %q", ErrUnsupported, mso.Version)
	}
	var alg digestAlg
	switch mso.DigestAlgorithm {
	case mdoc.DigestSHA256:
		alg = digestSHA256
	case mdoc.DigestSHA384:
		alg = digestSHA384
	case mdoc.DigestSHA512:
		alg = digestSHA512
	default:
		return nil, 0, fmt.Errorf("%w: MSO digest algorithm %q", ErrUnsupported, mso.DigestAlgorithm)
	}
	return mso, alg, nil
}

// digestAlg is one of the MSO digest algorithms of clause 9.1.2.5.
type digestAlg uint8

const (
	digestSHA256 digestAlg = iota + 1
	digestSHA384
	digestSHA512
)

// sum returns the digest of data in the first n bytes of out: computed
// with the one-shot functions, it needs no hash.Hash on the heap.
func (a digestAlg) sum(data []byte) (out [sha512.Size]byte, n int) {
	switch a {
	case digestSHA256:
		s := sha256.Sum256(data)
		n = copy(out[:], s[:])
	case digestSHA384:
		s := sha512.Sum384(data)
		n = copy(out[:], s[:])
	default:
		out, n = sha512.Sum512(data), sha512.Size
	}
	return out, n
}

// checkMSOValidity: clause 9.3.1 — the MSO was signed no later than now and
// within the validity period of the DS certificate, and validFrom ≤ now ≤
// validUntil.
func checkMSOValidity(vi *mdoc.ValidityInfo, ds *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(vi.Signed.Time):
		return fmt.Errorf("%w: MSO signed in the future (%s)", ErrMSOValidity, vi.Signed.String())
	case vi.Signed.Before(ds.NotBefore) || vi.Signed.After(ds.NotAfter):
		return fmt.Errorf("%w: MSO signed %s, outside the DS certificate validity", ErrMSOValidity, vi.Signed.String())
	case now.Before(vi.ValidFrom.Time):
		return fmt.Errorf("%w: MSO not valid before %s", ErrMSOValidity, vi.ValidFrom.String())
	case now.After(vi.ValidUntil.Time):
		return fmt.Errorf("%w: MSO expired %s", ErrMSOValidity, vi.ValidUntil.String())
	}
	return nil
}

// valueDigests checks clause 9.1.2.5 for every disclosed element: the digest
// over IssuerSignedItemBytes exactly as received (tag 24 included) equals
// valueDigests[namespace][digestID]. A missing digest, a repeated digestID or
// a repeated element identifier within a namespace fails. Elements that pass
// are added to the result. It returns the issuing_country value when that
// element was disclosed and proven.
func (v *docVerifier) valueDigests(mso *mdoc.MSO, alg digestAlg) (*string, error) {
	var errs []error
	var countryVal *string
	v.out.Elements = slices.Grow(v.out.Elements, v.issuerElementCount())
	for ns, items := range v.doc.IssuerSigned.NameSpaces {
		digests := mso.ValueDigests.NameSpace(ns)
		var seenID smallset.Set[uint64]
		var seenName smallset.Set[string]
		for i := range items {
			it := &items[i].Item
			if seenID.Add(it.DigestID) {
				errs = append(errs, fmt.Errorf("%s: digestID %d used twice", ns, it.DigestID))
				continue
			}
			if seenName.Add(it.ElementIdentifier) {
				errs = append(errs, fmt.Errorf("%s: element %q disclosed twice", ns, it.ElementIdentifier))
				continue
			}
			want, ok := digests.Find(it.DigestID)
			if !ok {
				errs = append(errs, fmt.Errorf("%s/%s: digestID %d not in the MSO", ns, it.ElementIdentifier, it.DigestID))
				continue
			}
			if sum, n := alg.sum(items[i].Bytes.Raw); !bytes.Equal(sum[:n], want) {
				errs = append(errs, fmt.Errorf("%s/%s: digest differs from the MSO", ns, it.ElementIdentifier))
				continue
			}
			val, err := mdoc.DecodeElementValue(it.ElementIdentifier, it.ElementValue)
			if err != nil {
				// Proven by digest but not decodable here: shown as raw bytes.
				val = []byte(it.ElementValue)
			}
			if ns == mdoc.NameSpaceMDL && it.ElementIdentifier == mdoc.ElementIssuingCountry {
				s, _ := val.(string)
				countryVal = &s
			}
			v.out.Elements = append(v.out.Elements, Element{Namespace: ns, Identifier: it.ElementIdentifier, Value: val, Raw: it.ElementValue})
		}
	}
	if len(errs) > 0 {
		return countryVal, fmt.Errorf("%w: %w", ErrValueDigest, joinBounded(errs))
	}
	return countryVal, nil
}

func (v *docVerifier) issuerElementCount() int {
	n := 0
	for _, items := range v.doc.IssuerSigned.NameSpaces {
		n += len(items)
	}
	return n
}

func countDevice(ns map[string]map[string]cbor.RawMessage) int {
	n := 0
	for _, els := range ns {
		n += len(els)
	}
	return n
}

// checkKeyAuthorizations: clause 9.1.2.4 — every device-signed element must
// be authorized by the MSO keyAuthorizations (absent = none authorized).
func checkKeyAuthorizations(mso *mdoc.MSO, devNS map[string]map[string]cbor.RawMessage) error {
	var errs []error
	for ns, els := range devNS {
		for id := range els {
			if !mso.DeviceKeyInfo.KeyAuthorizations.Authorizes(ns, id) {
				errs = append(errs, fmt.Errorf("device-signed %s/%s not authorized by keyAuthorizations", ns, id))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrDeviceAuth, joinBounded(errs))
	}
	return nil
}

func (v *docVerifier) addDeviceElements(devNS map[string]map[string]cbor.RawMessage) {
	for ns, els := range devNS {
		for id, raw := range els {
			val, err := mdoc.DecodeElementValue(id, raw)
			if err != nil {
				val = []byte(raw)
			}
			v.out.Elements = append(v.out.Elements, Element{Namespace: ns, Identifier: id, Value: val, Raw: raw, DeviceSigned: true})
		}
	}
}

// deviceAuth verifies deviceSignature or deviceMac (clause 9.1.3.4, 9.1.3.5)
// over DeviceAuthenticationBytes built from the received transcript and
// DeviceNameSpacesBytes.
func (v *docVerifier) deviceAuth(mso *mdoc.MSO, tr *transcript) error {
	ds := &v.doc.DeviceSigned
	dab := mdoc.DeviceAuthenticationBytes(tr.bare, v.doc.DocType, ds.NameSpaces.Raw)
	if ds.DeviceSignature != nil {
		m, err := parseSign1(ds.DeviceSignature)
		if err != nil {
			return fmt.Errorf("%w: deviceSignature: %w", ErrDeviceAuth, err)
		}
		if !m.Detached {
			return fmt.Errorf("%w: deviceSignature payload is not detached", ErrDeviceAuth)
		}
		pub, err := mso.DeviceKeyInfo.DeviceKey.PublicKey()
		if err != nil {
			return fmt.Errorf("%w: device key: %w", ErrDeviceAuth, err)
		}
		if err := coseErr(m.VerifySignature(pub, dab)); err != nil {
			return fmt.Errorf("%w: deviceSignature: %w", ErrDeviceAuth, err)
		}
		return nil
	}
	m, err := parseMac0(ds.DeviceMac)
	if err != nil {
		return fmt.Errorf("%w: deviceMac: %w", ErrDeviceAuth, err)
	}
	if !m.Detached {
		return fmt.Errorf("%w: deviceMac payload is not detached", ErrDeviceAuth)
	}
	if v.opts.ReaderKey == nil {
		return fmt.Errorf("%w: no reader key given: deviceMac not proven", ErrDeviceAuth)
	}
	devPub, err := mso.DeviceKeyInfo.DeviceKey.ECDHPublicKey()
	if err != nil {
		return fmt.Errorf("%w: device key: %w", ErrDeviceAuth, err)
	}
	// Clause 9.1.3.5: EMacKey = HKDF(ECDH(EReaderKey.priv, SDeviceKey.pub),
	// SHA-256(SessionTranscriptBytes), "EMacKey").
	z, err := v.opts.ReaderKey.ECDH(devPub)
	if err != nil {
		return fmt.Errorf("%w: ECDH with the device key: %v", ErrDeviceAuth, err)
	}
	key, err := session.DeriveKey(z, tr.tagged, session.InfoEMacKey)
	if err != nil {
		return fmt.Errorf("%w: deriving EMacKey: %v", ErrDeviceAuth, err)
	}
	if err := coseErr(m.VerifyMAC(key, dab)); err != nil {
		return fmt.Errorf("%w: deviceMac: %w", ErrDeviceAuth, err)
	}
	return nil
}
