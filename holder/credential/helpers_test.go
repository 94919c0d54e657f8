package credential_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// annexD reads testdata/annexd/NAME.hex.
func annexD(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "annexd", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func annexDKey(t testing.TB, prefix string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), annexD(t, prefix+"_d"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testWallet is a PKI, a device key and an issued sample mDL.
type testWallet struct {
	pki  *pki.PKI
	dev  *ecdsa.PrivateKey
	cred *credential.Credential
}

func newWallet(t testing.TB, mod func(*credential.IssueOptions)) *testWallet {
	t.Helper()
	p, err := pki.New(pki.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	els, err := credential.MDL(credential.SampleOptions{Now: testNow, Country: pki.DefaultCountry})
	if err != nil {
		t.Fatal(err)
	}
	o := credential.IssueOptions{
		DocType:   mdoc.DocTypeMDL,
		Elements:  els,
		DeviceKey: dev,
		DSCert:    p.DS,
		DSKey:     p.DSKey,
		Signed:    testNow.Add(-time.Hour),
	}
	if mod != nil {
		mod(&o)
	}
	c, err := credential.Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return &testWallet{pki: p, dev: dev, cred: c}
}

// Independent wire views, decoded here with plain fxamacker/cbor.
type wireItem struct {
	DigestID          uint64          `cbor:"digestID"`
	Random            []byte          `cbor:"random"`
	ElementIdentifier string          `cbor:"elementIdentifier"`
	ElementValue      cbor.RawMessage `cbor:"elementValue"`
}

type wireIssuerSigned struct {
	NameSpaces map[string][]cbor.RawMessage `cbor:"nameSpaces"`
	IssuerAuth cbor.RawMessage              `cbor:"issuerAuth"`
}

type wireMSO struct {
	Version         string                       `cbor:"version"`
	DigestAlgorithm string                       `cbor:"digestAlgorithm"`
	ValueDigests    map[string]map[uint64][]byte `cbor:"valueDigests"`
	DeviceKeyInfo   struct {
		DeviceKey map[int]any `cbor:"deviceKey"`
	} `cbor:"deviceKeyInfo"`
	DocType      string `cbor:"docType"`
	ValidityInfo map[string]cbor.Tag
}

type wireDocument struct {
	DocType      string           `cbor:"docType"`
	IssuerSigned wireIssuerSigned `cbor:"issuerSigned"`
	DeviceSigned struct {
		NameSpaces cbor.RawMessage            `cbor:"nameSpaces"`
		DeviceAuth map[string]cbor.RawMessage `cbor:"deviceAuth"`
	} `cbor:"deviceSigned"`
	Errors map[string]map[string]int `cbor:"errors"`
}

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := cbor.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding: %v", err)
	}
}

// untag24 returns the content of #6.24(bstr).
func untag24(t testing.TB, b []byte) []byte {
	t.Helper()
	var tag cbor.RawTag
	mustUnmarshal(t, b, &tag)
	if tag.Number != 24 {
		t.Fatalf("tag %d, want 24", tag.Number)
	}
	var inner []byte
	mustUnmarshal(t, tag.Content, &inner)
	return inner
}

// msoOf decodes the MSO from issuerAuth.
func msoOf(t testing.TB, issuerAuth []byte) (wireMSO, *cose.UntaggedSign1Message) {
	t.Helper()
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(issuerAuth); err != nil {
		t.Fatal(err)
	}
	var m wireMSO
	mustUnmarshal(t, untag24(t, msg.Payload), &m)
	return m, &msg
}

// transcriptFor builds a plausible SessionTranscriptBytes for tests.
func transcriptFor(t testing.TB) (stb, st []byte) {
	t.Helper()
	st = annexD(t, "session_transcript")
	return annexD(t, "session_transcript_bytes"), st
}

// deviceAuthBytes is DeviceAuthenticationBytes built independently.
func deviceAuthBytes(t testing.TB, st []byte, docType string) []byte {
	t.Helper()
	inner, err := cbor.Marshal([]any{"DeviceAuthentication", cbor.RawMessage(st), docType, cbor.RawMessage{0xd8, 0x18, 0x41, 0xa0}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cbor.Marshal(cbor.Tag{Number: 24, Content: inner})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkDeviceSignature verifies deviceSignature with go-cose.
func checkDeviceSignature(doc wireDocument, pub *ecdsa.PublicKey, dab []byte) error {
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(doc.DeviceSigned.DeviceAuth["deviceSignature"]); err != nil {
		return err
	}
	msg.Payload = dab
	v, err := cose.NewVerifier(cose.AlgorithmES256, pub)
	if err != nil {
		return err
	}
	return msg.Verify(nil, v)
}

// checkDeviceMAC recomputes the tag from the reader side: ECDH(EReaderKey
// private, MSO deviceKey).
func checkDeviceMAC(t testing.TB, doc wireDocument, readerPriv *ecdh.PrivateKey, devicePub *ecdsa.PublicKey, stb, dab []byte) bool {
	t.Helper()
	var mac0 []cbor.RawMessage
	mustUnmarshal(t, doc.DeviceSigned.DeviceAuth["deviceMac"], &mac0)
	if len(mac0) != 4 || !bytes.Equal(mac0[0], []byte{0x43, 0xa1, 0x01, 0x05}) || !bytes.Equal(mac0[1], []byte{0xa0}) || !bytes.Equal(mac0[2], []byte{0xf6}) {
		t.Fatalf("deviceMac shape: %x", doc.DeviceSigned.DeviceAuth["deviceMac"])
	}
	var tag []byte
	mustUnmarshal(t, mac0[3], &tag)
	dp, err := devicePub.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	z, err := readerPriv.ECDH(dp)
	if err != nil {
		t.Fatal(err)
	}
	k, err := session.DeriveKey(z, stb, "EMacKey")
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := cbor.Marshal([]any{"MAC0", []byte{0xa1, 0x01, 0x05}, []byte{}, dab})
	m := hmac.New(sha256.New, k)
	m.Write(ms)
	return hmac.Equal(m.Sum(nil), tag)
}
