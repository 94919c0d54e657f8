package verify

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"testing"
	"time"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/internal/p256"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// BenchmarkVerifyAnnexD is the full verification of the Annex D
// DeviceResponse: parse, chain, issuerAuth, MSO, digests, validity, deviceMac.
func BenchmarkVerifyAnnexD(b *testing.B) {
	resp := vec(b, "device_response")
	opts := annexDOptions(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// floorInputs are the precomputed inputs of the cryptographic operations a
// verification of the Annex D response cannot avoid.
type floorInputs struct {
	dsPub, iacaPub *ecdsa.PublicKey
	dsPrepared     *p256.PreparedKey // dsPub prepared, as a warm chain cache has it
	ds             *x509.Certificate
	sigTBS         []byte // Sig_structure of issuerAuth
	sigR, sigS     []byte
	readerKey      *ecdh.PrivateKey
	devPub         *ecdh.PublicKey
	transcript     []byte
	z              []byte
	macKey         []byte
	macTBS         []byte // MAC_structure of deviceMac
	items          [][]byte
}

func newFloor(b *testing.B) *floorInputs {
	f := &floorInputs{}
	ds, _ := x509.ParseCertificate(vec(b, "ds_cert"))
	iaca, _ := x509.ParseCertificate(vec(b, "iaca_cert"))
	f.ds, f.dsPub, f.iacaPub = ds, ds.PublicKey.(*ecdsa.PublicKey), iaca.PublicKey.(*ecdsa.PublicKey)
	var err error
	if f.dsPrepared, err = p256.Prepare(f.dsPub); err != nil {
		b.Fatal(err)
	}
	m, err := cose.ParseSign1(vec(b, "issuer_auth"))
	if err != nil {
		b.Fatal(err)
	}
	f.sigR, f.sigS = m.Signature[:32], m.Signature[32:]
	f.sigTBS = cose.ToBeSigned(cose.ContextSignature1, m.Protected, m.Payload)
	f.readerKey, _ = ecdh.P256().NewPrivateKey(vec(b, "e_reader_key_d"))
	mso, _ := mdoc.ParseMobileSecurityObjectBytes(vec(b, "mobile_security_object_bytes"))
	f.devPub, _ = mso.DeviceKeyInfo.DeviceKey.ECDHPublicKey()
	f.transcript = vec(b, "session_transcript_bytes")
	f.z = vec(b, "zab_emac")
	f.macKey = vec(b, "emac_key")
	f.macTBS = cose.ToBeSigned(cose.ContextMAC0, []byte{0xa1, 0x01, 0x05}, vec(b, "device_authentication_bytes"))
	r, _ := mdoc.ParseDeviceResponse(vec(b, "device_response"))
	for _, it := range r.Documents[0].IssuerSigned.NameSpaces[mdoc.NameSpaceMDL] {
		f.items = append(f.items, it.Bytes.Raw)
	}
	return f
}

// issuerAuth is the MSO signature check with the DS key not prepared, as
// cose makes it for any P-256 key (internal/p256's plain Verify).
func (f *floorInputs) issuerAuth() bool {
	h := sha256.Sum256(f.sigTBS)
	return p256.Verify(f.dsPub, h[:], f.sigR, f.sigS)
}

// issuerAuthPrepared is issuerAuth with the DS key prepared: the MSO
// signature check of a verification whose chain cache has prepared the key.
func (f *floorInputs) issuerAuthPrepared() bool {
	h := sha256.Sum256(f.sigTBS)
	return f.dsPrepared.Verify(h[:], f.sigR, f.sigS)
}

func (f *floorInputs) certSig() bool {
	h := sha256.Sum256(f.ds.RawTBSCertificate)
	return ecdsa.VerifyASN1(f.iacaPub, h[:], f.ds.Signature)
}

func (f *floorInputs) ecdh() []byte {
	z, _ := f.readerKey.ECDH(f.devPub)
	return z
}

func (f *floorInputs) hkdf() []byte {
	k, _ := session.DeriveKey(f.z, f.transcript, session.InfoEMacKey)
	return k
}

func (f *floorInputs) hmac() []byte {
	m := hmac.New(sha256.New, f.macKey)
	m.Write(f.macTBS)
	return m.Sum(nil)
}

func (f *floorInputs) digests() (s [32]byte) {
	for _, it := range f.items {
		s = sha256.Sum256(it)
	}
	return s
}

func BenchmarkFloorIssuerAuth(b *testing.B) {
	f := newFloor(b)
	for b.Loop() {
		if !f.issuerAuth() {
			b.Fatal("issuerAuth")
		}
	}
}

func BenchmarkFloorIssuerAuthPrepared(b *testing.B) {
	f := newFloor(b)
	for b.Loop() {
		if !f.issuerAuthPrepared() {
			b.Fatal("issuerAuth")
		}
	}
}

func BenchmarkFloorCertECDSA(b *testing.B) {
	f := newFloor(b)
	for b.Loop() {
		if !f.certSig() {
			b.Fatal("cert")
		}
	}
}

func BenchmarkFloorECDH(b *testing.B) {
	f := newFloor(b)
	for b.Loop() {
		f.ecdh()
	}
}

func BenchmarkFloorHKDF(b *testing.B) {
	f := newFloor(b)
	for b.Loop() {
		f.hkdf()
	}
}

func BenchmarkFloorHMAC(b *testing.B) {
	f := newFloor(b)
	for b.Loop() {
		f.hmac()
	}
}

func BenchmarkFloorDigests6(b *testing.B) {
	f := newFloor(b)
	for b.Loop() {
		f.digests()
	}
}

// BenchmarkFloor is every unavoidable cryptographic operation of one Annex D
// verification together: compare with BenchmarkVerifyAnnexD.
func BenchmarkFloor(b *testing.B) {
	f := newFloor(b)
	b.ReportAllocs()
	for b.Loop() {
		if !f.issuerAuth() || !f.certSig() {
			b.Fatal("signature")
		}
		f.ecdh()
		f.hkdf()
		f.hmac()
		f.digests()
	}
}

// BenchmarkVerifyOverFloor alternates one full verification and one floor
// run per iteration and reports their time ratio ("verify/floor"), which is
// robust against a busy machine where absolute figures drift.
// The chain cache is off, as for the floor, which checks the DS
// certificate's signature; BenchmarkVerifyAnnexDCPU has the warm case.
func BenchmarkVerifyOverFloor(b *testing.B) {
	resp := vec(b, "device_response")
	opts := annexDOptions(b)
	opts.Trust.SetChainCacheSize(0)
	f := newFloor(b)
	var tv, tf time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		f.issuerAuth()
		f.certSig()
		f.ecdh()
		f.hkdf()
		f.hmac()
		f.digests()
		t2 := time.Now()
		tv += t1.Sub(t0)
		tf += t2.Sub(t1)
	}
	b.ReportMetric(float64(tv)/float64(tf), "verify/floor")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "floor-ns/op")
}
