package session

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// Key-derivation labels of ISO/IEC 18013-5 clause 9.1.1.5 and 9.1.3.5.
const (
	InfoSKReader = "SKReader"
	InfoSKDevice = "SKDevice"
	InfoEMacKey  = "EMacKey"
)

// DeriveKey is HKDF-SHA256 with IKM = sharedSecret (the raw ECDH output Z_AB),
// salt = SHA-256(SessionTranscriptBytes) over the tag-24 wrapped transcript as
// used on the wire, the given info, and a 32-byte output (ISO/IEC 18013-5
// 9.1.1.5 for SKReader/SKDevice, 9.1.3.5 for EMacKey).
func DeriveKey(sharedSecret, sessionTranscriptBytes []byte, info string) ([]byte, error) {
	salt := sha256.Sum256(sessionTranscriptBytes)
	return hkdf.Key(sha256.New, sharedSecret, salt[:], info, 32)
}
