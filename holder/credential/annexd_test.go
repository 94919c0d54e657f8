package credential_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// TestDeviceAuthenticationBytesAnnexD rebuilds DeviceAuthenticationBytes of
// ISO/IEC 18013-5 Annex D (D.5.3) from its parts.
func TestDeviceAuthenticationBytesAnnexD(t *testing.T) {
	want := annexD(t, "device_authentication_bytes")
	nsb := annexD(t, "device_name_spaces_bytes")
	got, err := credential.DeviceAuthenticationBytes(annexD(t, "session_transcript"), mdoc.DocTypeMDL, nsb)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("DeviceAuthenticationBytes\n got %x\nwant %x", got, want)
	}
}

// TestDeviceMACAnnexD reproduces the Annex D deviceMac from SDeviceKey,
// EReaderKey and the session transcript (D.5.3, 9.1.3.5).
func TestDeviceMACAnnexD(t *testing.T) {
	sdev := annexDKey(t, "s_device_key")
	readerPub, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, annexD(t, "e_reader_key_x")...), annexD(t, "e_reader_key_y")...))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := credential.DeviceMAC(sdev, readerPub, annexD(t, "session_transcript_bytes"), annexD(t, "device_authentication_bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if want := annexD(t, "device_mac"); !bytes.Equal(mac, want) {
		t.Fatalf("deviceMac\n got %x\nwant %x", mac, want)
	}
	if tag := annexD(t, "device_mac_tag"); !bytes.HasSuffix(mac, tag) {
		t.Fatal("tag differs")
	}
	if _, err := credential.DeviceMAC(sdev, nil, nil, nil); err == nil {
		t.Error("no reader key accepted")
	}
}

// TestAnnexDCredential loads the Annex D IssuerSigned (issued elsewhere),
// presents it with the Annex D keys and transcript, and gets the Annex D
// Document back (same values; deterministic map order aside).
func TestAnnexDCredential(t *testing.T) {
	is := annexD(t, "issuer_signed")
	c, err := credential.Parse(is)
	if err != nil {
		t.Fatal(err)
	}
	if c.DocType != mdoc.DocTypeMDL || c.DigestAlgorithm != "SHA-256" {
		t.Fatalf("docType %q alg %q", c.DocType, c.DigestAlgorithm)
	}
	if n := len(c.Items[mdoc.NameSpaceMDL]); n != 6 {
		t.Fatalf("%d items, want 6", n)
	}
	fam := c.Items[mdoc.NameSpaceMDL][0]
	if fam.ElementIdentifier != "family_name" || !bytes.Equal(fam.Bytes, annexD(t, "issuer_signed_item_bytes_family_name")) {
		t.Fatalf("first item %s %x", fam.ElementIdentifier, fam.Bytes)
	}
	if d := sha256.Sum256(fam.Bytes); !bytes.Equal(d[:], annexD(t, "value_digest_family_name")) {
		t.Error("family_name digest")
	}
	if err := c.SetDeviceKey(annexDKey(t, "e_reader_key")); err == nil {
		t.Error("foreign device key accepted")
	}
	if err := c.SetDeviceKey(annexDKey(t, "s_device_key")); err != nil {
		t.Fatal(err)
	}

	// Save and Load: byte-exact.
	dir := t.TempDir()
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, credential.FileIssuerSigned)); !bytes.Equal(b, is) {
		t.Fatal("saved bytes differ from the Annex D IssuerSigned")
	}
	c2, err := credential.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c2.IssuerSigned, is) || c2.DeviceKey == nil {
		t.Fatal("Load lost bytes or key")
	}

	requested := map[string]map[string]bool{}
	for ns, items := range c2.Items {
		requested[ns] = map[string]bool{}
		for _, it := range items {
			requested[ns][it.ElementIdentifier] = false
		}
	}
	readerPriv, err := ecdh.P256().NewPrivateKey(annexD(t, "e_reader_key_d"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := c2.Present(credential.PresentOptions{
		Requested:         requested,
		SessionTranscript: annexD(t, "session_transcript_bytes"),
		MAC:               true,
		ReaderKey:         readerPriv.PublicKey(),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := credential.DeviceResponse(credential.StatusOK, nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	mustUnmarshal(t, resp, &got)
	mustUnmarshal(t, annexD(t, "device_response"), &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DeviceResponse differs from Annex D:\n got %x", resp)
	}
	// And the deviceMac is the published one, byte for byte.
	var d wireDocument
	mustUnmarshal(t, doc, &d)
	if !bytes.Equal(d.DeviceSigned.DeviceAuth["deviceMac"], annexD(t, "device_mac")) {
		t.Error("deviceMac differs")
	}
	// The transcript may also be given as the bare array.
	doc2, err := c2.Present(credential.PresentOptions{Requested: requested, SessionTranscript: annexD(t, "session_transcript"), MAC: true, ReaderKey: readerPriv.PublicKey()})
	if err != nil || !bytes.Equal(doc2, doc) {
		t.Errorf("bare transcript: %v", err)
	}
}

// TestEMacKeyAnnexD checks the key derivation path DeviceMAC relies on.
func TestEMacKeyAnnexD(t *testing.T) {
	z, err := annexDKey(t, "s_device_key").ECDH()
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := ecdh.P256().NewPublicKey(append(append([]byte{4}, annexD(t, "e_reader_key_x")...), annexD(t, "e_reader_key_y")...))
	zab, err := z.ECDH(rp)
	if err != nil || !bytes.Equal(zab, annexD(t, "zab_emac")) {
		t.Fatalf("Z_AB: %v", err)
	}
	k, _ := session.DeriveKey(zab, annexD(t, "session_transcript_bytes"), session.InfoEMacKey)
	if !bytes.Equal(k, annexD(t, "emac_key")) {
		t.Fatal("EMacKey")
	}
}
