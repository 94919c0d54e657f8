package cose

import (
	"bytes"
	"io"

	"github.com/idreader/idreader/mdoc"
)

// The context strings of the structures signed or MACed (RFC 9052 sections
// 4.4 and 6.3).
const (
	ContextSignature1 = "Signature1"
	ContextMAC0       = "MAC0"
)

// writeToBeSigned writes Sig_structure or MAC_structure with an empty
// external_aad into w without building it in memory:
//
//	Sig_structure = ["Signature1", body_protected, external_aad, payload]
//	MAC_structure = ["MAC0", protected, external_aad, payload]
func writeToBeSigned(w io.Writer, context string, protected, payload []byte) {
	// One buffer for the CBOR heads (it escapes into w: one allocation).
	buf := make([]byte, 0, 32+len(context))
	buf = append(buf, 0x84)
	buf = mdoc.AppendHead(buf, 0x60, uint64(len(context)))
	buf = append(buf, context...)
	buf = mdoc.AppendHead(buf, 0x40, uint64(len(protected)))
	w.Write(buf)
	w.Write(protected)
	buf = append(buf[:0], 0x40) // external_aad = h''
	buf = mdoc.AppendHead(buf, 0x40, uint64(len(payload)))
	w.Write(buf)
	w.Write(payload)
}

// ToBeSigned returns the Sig_structure (context [ContextSignature1]) or
// MAC_structure (context [ContextMAC0]) over the protected header bytes and
// payload, with an empty external_aad (RFC 9052 sections 4.4 and 6.3).
func ToBeSigned(context string, protected, payload []byte) []byte {
	var buf bytes.Buffer
	writeToBeSigned(&buf, context, protected, payload)
	return buf.Bytes()
}
