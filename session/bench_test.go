package session

import (
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/idreader/idreader/mdoc"
)

// BenchmarkOpen30KB decrypts a 30 KB SessionData (a DeviceResponse with a
// portrait), counter reset each time.
func BenchmarkOpen30KB(b *testing.B) {
	r := annexDReader(b)
	if _, err := r.Establish(nil); err != nil {
		b.Fatal(err)
	}
	d := annexDDevice(b)
	se, _ := annexDReader(b).Establish(nil)
	if _, err := d.Establish(se); err != nil {
		b.Fatal(err)
	}
	msg, err := d.Seal(make([]byte, 30*1024))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		r.in.counter = 1
		if _, err := r.Open(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkECDHP256(b *testing.B) {
	priv, _ := ecdh.P256().NewPrivateKey(annexD(b, "e_reader_key_d"))
	k, _ := mdoc.ParseCOSEKey(annexD(b, "e_device_key_cose"))
	pub, _ := k.ECDHPublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := priv.ECDH(pub); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriveKey(b *testing.B) {
	z, stb := annexD(b, "zab_session"), annexD(b, "session_transcript_bytes")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DeriveKey(z, stb, InfoSKReader); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewReader is the whole reader key setup: ephemeral P-256 key,
// EReaderKeyBytes, transcript, ECDH, SKReader and SKDevice.
func BenchmarkNewReader(b *testing.B) {
	de, err := mdoc.ParseDeviceEngagement(annexD(b, "device_engagement_nfc"))
	if err != nil {
		b.Fatal(err)
	}
	h := Handover{Raw: annexD(b, "nfc_handover")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewReader(rand.Reader, de, h); err != nil {
			b.Fatal(err)
		}
	}
}
