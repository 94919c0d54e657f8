package reason

// Code is a stable reason code, e.g. "value_digest" or "age_not_met".
type Code string

// Category groups codes by the layer that produces them.
type Category int

// The categories.
const (
	CategoryUnknown      Category = iota // not a code of the registry
	CategoryVerification                 // package verify: the response is not proven
	CategoryPolicy                       // package policy: proven, but not acceptable
	CategoryTransport                    // the tap: NFC, BLE, the session, the wallet
	CategoryDaemon                       // the daemon around the tap
	CategoryTrust                        // trust material: a VICAL and its signer
)

// String returns the category's name in lower case.
func (c Category) String() string {
	switch c {
	case CategoryVerification:
		return "verification"
	case CategoryPolicy:
		return "policy"
	case CategoryTransport:
		return "transport"
	case CategoryDaemon:
		return "daemon"
	case CategoryTrust:
		return "trust"
	}
	return "unknown"
}

// Verification codes (ISO/IEC 18013-5 clause 9.3.1).
const (
	Malformed           Code = "malformed"
	IssuerUntrusted     Code = "issuer_untrusted"
	IssuerSignature     Code = "issuer_signature"
	CertificateProfile  Code = "certificate_profile"
	CertificateValidity Code = "certificate_validity"
	MSOValidity         Code = "mso_validity"
	ValueDigest         Code = "value_digest"
	DocTypeMismatch     Code = "doctype_mismatch"
	DeviceAuth          Code = "device_auth"
	Unsupported         Code = "unsupported"
	Revoked             Code = "revoked"
	RevocationUnknown   Code = "revocation_unknown"
	NotReturned         Code = "not_returned"
)

// Policy codes.
const (
	ElementMissing    Code = "element_missing"
	AgeNotMet         Code = "age_not_met"
	DocumentExpired   Code = "document_expired"
	DocTypeNotAllowed Code = "doctype_not_allowed"
	IssuerNotAllowed  Code = "issuer_not_allowed"
	ConditionNotMet   Code = "condition_not_met"
)

// Transport codes of a tap.
const (
	Removed       Code = "removed"
	Timeout       Code = "timeout"
	WalletStatus  Code = "wallet_status"
	Session       Code = "session"
	Transport     Code = "transport"
	Disconnected  Code = "disconnected"
	BLEProtocol   Code = "ble_protocol"
	IdentMismatch Code = "ident_mismatch"
	NotFound      Code = "not_found"
	// ReaderUnavailable is the reader's problem, not the phone's: pcscd
	// not running, no reader of that name, the reader unplugged.
	ReaderUnavailable Code = "reader_unavailable"
)

// Daemon codes.
const (
	Cancelled Code = "cancelled"
	Config    Code = "config"
)

// Trust codes: a VICAL (ISO/IEC 18013-5 Annex C) that cannot be trusted.
const (
	VICALMalformed Code = "vical_malformed"
	VICALSignature Code = "vical_signature"
	VICALUntrusted Code = "vical_untrusted"
	VICALProfile   Code = "vical_profile"
	VICALValidity  Code = "vical_validity"
	VICALStale     Code = "vical_stale"
)

// entry is one row of the registry.
type entry struct {
	code     Code
	category Category
	meaning  string
	en, ja   string
}

// registry holds every code, in the order All returns them.
var registry = []entry{
	{Malformed, CategoryVerification,
		"the response or a structure in it does not decode or does not have the shape the 18013-5 CDDL requires, or the response carries no document (status ≠ 0 or no documents)",
		"The phone sent unreadable data", "読み取れないデータを受信しました"},
	{IssuerUntrusted, CategoryVerification,
		"the document signer certificate does not chain to an IACA of the trust store, or that IACA is trusted only for other doc types (check anchor_doctype)",
		"The issuer is not trusted", "発行元を確認できません"},
	{IssuerSignature, CategoryVerification,
		"the issuerAuth signature does not verify",
		"The document's signature is not valid", "書類の署名が無効です"},
	{CertificateProfile, CategoryVerification,
		"a certificate breaks its Annex B profile, or the countries of DS, IACA and issuing_country disagree",
		"The issuer's certificate is not valid", "発行元の証明書が無効です"},
	{CertificateValidity, CategoryVerification,
		"the DS or IACA certificate is not valid at the verification time",
		"The issuer's certificate has expired or is not yet valid", "発行元の証明書の有効期間外です"},
	{MSOValidity, CategoryVerification,
		"the MSO is expired, not yet valid, or signed in the future (clause 9.3.1)",
		"The document data is not valid at this time", "書類データの有効期間外です"},
	{ValueDigest, CategoryVerification,
		"a disclosed element's digest is missing from the MSO or differs from it (clause 9.1.2.5)",
		"The document data has been altered", "書類データが改ざんされています"},
	{DocTypeMismatch, CategoryVerification,
		"the MSO docType differs from the Document docType",
		"The document data does not match its type", "書類データが一致しません"},
	{DeviceAuth, CategoryVerification,
		"mdoc authentication (clause 9.1.3) failed or could not be proven (no transcript, no reader key for a MAC), or device-signed elements are not covered by keyAuthorizations",
		"The phone could not prove the document is its own", "端末の認証に失敗しました"},
	{Unsupported, CategoryVerification,
		"an algorithm, MSO version, curve or transport this reader does not implement",
		"This phone or wallet is not supported", "この端末・ウォレットには対応していません"},
	{Revoked, CategoryVerification,
		"the revocation checker reports the document signer certificate or the document as revoked",
		"The document has been revoked", "この書類は失効しています"},
	{RevocationUnknown, CategoryVerification,
		"the revocation checker could not establish the status of the document signer certificate or the document",
		"The document's status could not be checked", "書類の失効状況を確認できません"},
	{NotReturned, CategoryVerification,
		"the wallet answered status 0 without any document and listed the requested doc types in documentErrors (clause 8.3.2.1.2.3): it does not hold them or its holder declined",
		"The wallet did not share the requested document", "ウォレットから書類が提供されませんでした"},

	{ElementMissing, CategoryPolicy,
		"a required element (or the portrait) was not disclosed, or an age_over_NN question got no answer that decides it",
		"Required information was not shared", "必要な情報が提供されませんでした"},
	{AgeNotMet, CategoryPolicy,
		"age_over_NN was answered false, directly or implied by a false age_over_XX with XX < NN (clause 7.2.5)",
		"Age requirement not met", "年齢確認できません"},
	{DocumentExpired, CategoryPolicy,
		"the document's expiry_date has passed",
		"The document has expired", "有効期限が切れています"},
	{DocTypeNotAllowed, CategoryPolicy,
		"the response holds no document of a doc type the profile accepts",
		"This document is not accepted here", "この書類はご利用いただけません"},
	{IssuerNotAllowed, CategoryPolicy,
		"the issuer's country is not in the profile's list",
		"Documents from this issuer are not accepted here", "この発行元の書類はご利用いただけません"},
	{ConditionNotMet, CategoryPolicy,
		"an element that must be true (other than age_over_NN) was false or not a boolean",
		"A required condition was not met", "必要な条件を満たしていません"},

	{Removed, CategoryTransport,
		"the phone left the field",
		"The phone was moved away too soon. Please tap again", "読み取り中に離れました。もう一度かざしてください"},
	{Timeout, CategoryTransport,
		"a step did not finish in time",
		"Reading took too long. Please tap again", "時間切れです。もう一度かざしてください"},
	{WalletStatus, CategoryTransport,
		"the wallet ended the session (a status code, or BLE State 0x02 before its response)",
		"The wallet stopped the exchange", "ウォレットが読み取りを中止しました"},
	{Session, CategoryTransport,
		"session decryption or counter failure (clause 9.1.1)",
		"The secure connection failed. Please tap again", "暗号化通信に失敗しました。もう一度かざしてください"},
	{Transport, CategoryTransport,
		"any other reader or APDU failure",
		"Reading failed. Please tap again", "読み取りに失敗しました。もう一度かざしてください"},
	{Disconnected, CategoryTransport,
		"the BLE link went down during the set-up or the exchange (clause 8.3.3.1.1); a wallet that reads a wrong Ident disconnects before State 0x01 and shows up here",
		"The Bluetooth connection was lost. Please tap again", "Bluetooth接続が切れました。もう一度かざしてください"},
	{BLEProtocol, CategoryTransport,
		"the wallet broke the BLE framing rules: an empty or oversized chunk, an unknown leading byte or State value, a message over the size limit",
		"The phone sent invalid Bluetooth data. Please tap again", "Bluetoothの通信データが不正です。もう一度かざしてください"},
	{IdentMismatch, CategoryTransport,
		"the BLE Ident characteristic did not match HKDF(EDeviceKeyBytes, \"BLEIdent\")",
		"The phone could not be identified over Bluetooth. Please tap again", "Bluetoothで端末を確認できませんでした。もう一度かざしてください"},
	{NotFound, CategoryTransport,
		"the wallet's BLE service (or one of its characteristics) was not found",
		"The wallet was not found over Bluetooth. Please tap again", "Bluetoothでウォレットが見つかりませんでした。もう一度かざしてください"},
	{ReaderUnavailable, CategoryTransport,
		"the reader cannot be used: its service (pcscd) is not running, no reader has that name, or it was unplugged (reader.UnavailableError)",
		"The reader is not available. Please ask staff", "リーダーが使用できません。係員にお知らせください"},

	{Cancelled, CategoryDaemon,
		"the point of sale cancelled the check during its tap",
		"The check was cancelled", "確認は取り消されました"},
	{Config, CategoryDaemon,
		"the tap could not start: its profile or reader identity is missing from the settings",
		"This reader is not set up for this check", "この確認は読み取り機に設定されていません"},

	{VICALMalformed, CategoryTrust,
		"the VICAL does not decode, is not a COSE_Sign1 with an x5chain, or lacks a member Annex C requires",
		"The issuer list is unreadable", "発行者リストを読み取れません"},
	{VICALSignature, CategoryTrust,
		"the VICAL's COSE_Sign1 signature does not verify with the signer certificate's key",
		"The issuer list's signature is not valid", "発行者リストの署名が無効です"},
	{VICALUntrusted, CategoryTrust,
		"the VICAL signer certificate does not chain through the x5chain to a configured VICAL anchor",
		"The issuer list's signer is not trusted", "発行者リストの署名者を確認できません"},
	{VICALProfile, CategoryTrust,
		"the VICAL signer certificate lacks extended key usage 1.0.18013.5.1.8 or digitalSignature, or is a CA",
		"The issuer list's signer certificate is not valid", "発行者リストの署名者証明書が無効です"},
	{VICALValidity, CategoryTrust,
		"a certificate of the VICAL signer's chain is not valid at the verification time, or the VICAL is dated after it",
		"The issuer list is not valid at this time", "発行者リストの有効期間外です"},
	{VICALStale, CategoryTrust,
		"the VICAL's nextUpdate has passed: a newer list should exist",
		"The issuer list is out of date", "発行者リストが古くなっています"},
}

// Texts for a code the registry does not know.
const (
	UnknownEnglish  = "The document could not be verified"
	UnknownJapanese = "確認できませんでした"
)

func find(c Code) *entry {
	for i := range registry {
		if registry[i].code == c {
			return &registry[i]
		}
	}
	return nil
}

// Known reports whether c is a code of the registry.
func Known(c Code) bool { return find(c) != nil }

// All returns every code of the registry: verification, policy, transport,
// daemon, trust, in a fixed order.
func All() []Code {
	out := make([]Code, len(registry))
	for i, e := range registry {
		out[i] = e.code
	}
	return out
}

// Category returns the code's category, [CategoryUnknown] for a code outside the
// registry.
func (c Code) Category() Category {
	if e := find(c); e != nil {
		return e.category
	}
	return CategoryUnknown
}

// Meaning is what the code says happened, for logs and documentation (not
// for the holder: see English and Japanese). Empty for an unknown code.
func (c Code) Meaning() string {
	if e := find(c); e != nil {
		return e.meaning
	}
	return ""
}

// English is the sentence shown for the code, [UnknownEnglish] for a code
// outside the registry.
func (c Code) English() string {
	if e := find(c); e != nil {
		return e.en
	}
	return UnknownEnglish
}

// Japanese is the sentence shown for the code, [UnknownJapanese] for a code
// outside the registry.
func (c Code) Japanese() string {
	if e := find(c); e != nil {
		return e.ja
	}
	return UnknownJapanese
}

// Languages of [Text].
const (
	LangEnglish  = "en"
	LangJapanese = "ja"
)

// Text returns the sentence for code c in lang ("en" or "ja"; any other
// language gets English).
func Text(c Code, lang string) string {
	if lang == LangJapanese {
		return c.Japanese()
	}
	return c.English()
}
