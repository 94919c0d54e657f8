package display

import "github.com/idreader/idreader/reason"

// Text is one sentence in the two languages of the kiosk.
type Text struct {
	En string `json:"en"`
	Ja string `json:"ja"`
}

// unknownReason is shown for a code without a sentence of its own.
var unknownReason = Text{reason.UnknownEnglish, reason.UnknownJapanese}

// ReasonText returns the sentence for a reason code from the one registry of
// reason codes (package reason), or a general one for a code it does not know.
func ReasonText(code string) Text {
	c := reason.Code(code)
	if !reason.Known(c) {
		return unknownReason
	}
	return Text{En: c.English(), Ja: c.Japanese()}
}
