package session

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"testing"
)

func FuzzSessionEstablishment(f *testing.F) {
	f.Add(annexD(f, "session_establishment"))
	f.Fuzz(func(t *testing.T, data []byte) {
		se, err := ParseSessionEstablishment(data)
		if err != nil {
			return
		}
		enc, err := se.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSessionEstablishment(enc)
		if err != nil || !bytes.Equal(again.EReaderKeyBytes.Raw, se.EReaderKeyBytes.Raw) || !bytes.Equal(again.Data, se.Data) {
			t.Fatalf("round trip: %v", err)
		}
		// A device must refuse (not panic on) whatever parses.
		d := annexDDevice(t)
		_, _ = d.Establish(data)
	})
}

func FuzzSessionData(f *testing.F) {
	f.Add(annexD(f, "session_data"))
	f.Add(annexD(f, "session_termination"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := ParseSessionData(data)
		if err != nil {
			return
		}
		enc, err := sd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSessionData(enc)
		if err != nil || again.HasStatus != sd.HasStatus || again.Status != sd.Status || !bytes.Equal(again.Data, sd.Data) || (again.Data == nil) != (sd.Data == nil) {
			t.Fatalf("round trip: %v", err)
		}
		r := annexDReader(t)
		if _, err := r.Establish(nil); err != nil {
			t.Fatal(err)
		}
		_, _ = r.Open(data)
	})
}

func FuzzSessionTranscript(f *testing.F) {
	f.Add(annexD(f, "session_transcript_bytes"))
	f.Add(annexD(f, "session_transcript"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseSessionTranscript(data)
		if err != nil {
			return
		}
		if !bytes.Equal(st.Bytes(), data) && !bytes.Equal(st.ArrayBytes(), data) {
			t.Fatal("neither form is the input")
		}
		again, err := ParseSessionTranscript(st.Bytes())
		if err != nil || !bytes.Equal(again.ArrayBytes(), st.ArrayBytes()) {
			t.Fatalf("tagged form does not parse back: %v", err)
		}
		_, _, _ = st.Handover.NFC()
	})
}

// FuzzVerifyReaderAuth: whatever the reader sends as readerAuth, the
// verification fails with ErrReaderAuth or returns the x5chain, never panics;
// nothing verifies unless signed by the Annex D reader key.
func FuzzVerifyReaderAuth(f *testing.F) {
	genuine := annexD(f, "reader_auth")
	f.Add(genuine)
	f.Add(append([]byte{0xd2}, genuine...))
	st, err := ParseSessionTranscript(annexD(f, "session_transcript_bytes"))
	if err != nil {
		f.Fatal(err)
	}
	irb := annexDItems(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		chain, err := VerifyReaderAuth(data, st, irb)
		if err != nil {
			if !errors.Is(err, ErrReaderAuth) {
				t.Fatalf("error not wrapping ErrReaderAuth: %v", err)
			}
			return
		}
		if len(chain) == 0 {
			t.Fatal("verified without a certificate")
		}
		// The certificate is not validated here (the wallet does that), so
		// its other fields may differ; its key must be the reader's.
		reader, err := x509.ParseCertificate(annexD(t, "reader_cert"))
		if err != nil {
			t.Fatal(err)
		}
		if !reader.PublicKey.(*ecdsa.PublicKey).Equal(chain[0].PublicKey) {
			t.Fatal("verified with another key")
		}
	})
}
