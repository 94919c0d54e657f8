package mdoc

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// QRScheme is the URI scheme of a QR device engagement (ISO/IEC 18013-5
// clause 8.2.2.3): "mdoc:" followed by the DeviceEngagement bytes in base64url
// without padding.
const QRScheme = "mdoc:"

// ParseQR decodes the text of a QR device engagement. The scheme is matched
// case-insensitively (RFC 3986 3.1); base64url with or without padding is
// accepted; surrounding whitespace is ignored.
func ParseQR(text string) (*DeviceEngagement, error) {
	text = strings.TrimSpace(text)
	if len(text) < len(QRScheme) || !strings.EqualFold(text[:len(QRScheme)], QRScheme) {
		return nil, fmt.Errorf("%w: QR engagement without the %q scheme", ErrMalformed, QRScheme)
	}
	payload := strings.TrimRight(text[len(QRScheme):], "=")
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: QR engagement is not base64url: %v", ErrMalformed, err)
	}
	de, err := ParseDeviceEngagement(raw)
	if err != nil {
		return nil, fmt.Errorf("reading QR engagement: %w", err)
	}
	return de, nil
}

// QR returns the QR text for the engagement: "mdoc:" + base64url without
// padding of the exact Raw bytes (ISO/IEC 18013-5 clause 8.2.2.3).
func (de *DeviceEngagement) QR() string {
	return QRScheme + base64.RawURLEncoding.EncodeToString(de.Raw)
}
