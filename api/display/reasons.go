package display

// Text is one sentence in the two languages of the kiosk.
type Text struct {
	En string `json:"en"`
	Ja string `json:"ja"`
}

// reasonTexts maps the stable reason codes (package verify, the terminal's
// tap codes and the policy codes) to short sentences for the holder and the
// clerk.
var reasonTexts = map[string]Text{
	// Policy codes.
	"age_not_met":         {"Age requirement not met", "年齢確認できません"},
	"element_missing":     {"Required information was not shared", "必要な情報が提供されませんでした"},
	"document_expired":    {"The document has expired", "有効期限が切れています"},
	"doctype_not_allowed": {"This document is not accepted here", "この書類はご利用いただけません"},
	"issuer_not_allowed":  {"Documents from this issuer are not accepted here", "この発行元の書類はご利用いただけません"},
	// Verification codes (package verify).
	"malformed":            {"The phone sent unreadable data", "読み取れないデータを受信しました"},
	"issuer_untrusted":     {"The issuer is not trusted", "発行元を確認できません"},
	"issuer_signature":     {"The document's signature is not valid", "書類の署名が無効です"},
	"certificate_profile":  {"The issuer's certificate is not valid", "発行元の証明書が無効です"},
	"certificate_validity": {"The issuer's certificate has expired or is not yet valid", "発行元の証明書の有効期間外です"},
	"mso_validity":         {"The document data is not valid at this time", "書類データの有効期間外です"},
	"value_digest":         {"The document data has been altered", "書類データが改ざんされています"},
	"doctype_mismatch":     {"The document data does not match its type", "書類データが一致しません"},
	"device_auth":          {"The phone could not prove the document is its own", "端末の認証に失敗しました"},
	"unsupported":          {"This phone or wallet is not supported", "この端末・ウォレットには対応していません"},
	// Tap codes (package terminal).
	"removed":       {"The phone was moved away too soon. Please tap again", "読み取り中に離れました。もう一度かざしてください"},
	"timeout":       {"Reading took too long. Please tap again", "時間切れです。もう一度かざしてください"},
	"wallet_status": {"The wallet stopped the exchange", "ウォレットが読み取りを中止しました"},
	"session":       {"The secure connection failed. Please tap again", "暗号化通信に失敗しました。もう一度かざしてください"},
	"transport":     {"Reading failed. Please tap again", "読み取りに失敗しました。もう一度かざしてください"},
}

// unknownReason is shown for a code without a sentence of its own.
var unknownReason = Text{"The document could not be verified", "確認できませんでした"}

// ReasonText returns the sentence for a reason code, or a general one for
// a code it does not know.
func ReasonText(code string) Text {
	if t, ok := reasonTexts[code]; ok {
		return t
	}
	return unknownReason
}
