package conformance_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/verify"
)

// annexDTime is inside the validity of the Annex D DS certificate and MSO.
var annexDTime = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

// annexDReader is the reader of Annex D.5.1: the NFC DeviceEngagement, the
// published EReaderKey and the negotiated handover.
func annexDReader(t *testing.T) *session.Reader {
	t.Helper()
	de, err := mdoc.ParseDeviceEngagement(ad(t, "device_engagement_nfc"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdh.P256().NewPrivateKey(ad(t, "e_reader_key_d"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := session.NFCHandover(ad(t, "handover_select_message"), ad(t, "handover_request_message"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := session.NewReaderWithKey(priv, de, h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func p256Pub(t *testing.T, x, y []byte) *ecdh.PublicKey {
	t.Helper()
	k, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func p256Priv(t *testing.T, d []byte) *ecdh.PrivateKey {
	t.Helper()
	k, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func tagged(t *testing.T, inner []byte) []byte {
	t.Helper()
	tc, err := mdoc.NewTaggedCBOR(inner)
	if err != nil {
		t.Fatal(err)
	}
	return tc.Raw
}

func equal(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs:\n got %x\nwant %x", what, got, want)
	}
}

// coseParts splits a COSE_Sign1 / COSE_Mac0 array (untagged) into its four
// items.
func coseParts(t *testing.T, b []byte) []cbor.RawMessage {
	t.Helper()
	var parts []cbor.RawMessage
	if err := cbor.Unmarshal(b, &parts); err != nil || len(parts) != 4 {
		t.Fatalf("COSE structure: %v (%d items)", err, len(parts))
	}
	return parts
}

func bstr(t *testing.T, raw cbor.RawMessage) []byte {
	t.Helper()
	var b []byte
	if err := cbor.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAnnexD reproduces every value of testdata/annexd with this project's
// code (or, for the few inputs of the examples, checks them against each
// other), and fails when a vector file has no reproduction here.
func TestAnnexD(t *testing.T) {
	cases := []struct {
		name, clause, proof string
		run                 func(t *testing.T)
	}{
		{"e_device_key_d", "D.5.1", "its public key is (e_device_key_x, e_device_key_y)", func(t *testing.T) {
			equal(t, "EDeviceKey", p256Priv(t, ad(t, "e_device_key_d")).PublicKey().Bytes(), p256Pub(t, ad(t, "e_device_key_x"), ad(t, "e_device_key_y")).Bytes())
		}},
		{"e_device_key_x", "D.5.1", "x of the COSE_Key in the DeviceEngagement", func(t *testing.T) {
			de, err := mdoc.ParseDeviceEngagement(ad(t, "device_engagement_nfc"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "x", de.EDeviceKey.X, ad(t, "e_device_key_x"))
		}},
		{"e_device_key_y", "D.5.1", "y of the COSE_Key in the DeviceEngagement", func(t *testing.T) {
			de, err := mdoc.ParseDeviceEngagement(ad(t, "device_engagement_nfc"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "y", de.EDeviceKey.Y, ad(t, "e_device_key_y"))
		}},
		{"e_device_key_cose", "D.5.1", "mdoc.EncodeCOSEKey of the EDeviceKey", func(t *testing.T) {
			b, err := mdoc.EncodeCOSEKey(p256Pub(t, ad(t, "e_device_key_x"), ad(t, "e_device_key_y")))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "COSE_Key", b, ad(t, "e_device_key_cose"))
		}},
		{"e_device_key_bytes", "D.3.1", "tag 24 over e_device_key_cose; EDeviceKeyBytes of the parsed DeviceEngagement", func(t *testing.T) {
			equal(t, "EDeviceKeyBytes", tagged(t, ad(t, "e_device_key_cose")), ad(t, "e_device_key_bytes"))
			de, err := mdoc.ParseDeviceEngagement(ad(t, "device_engagement_nfc"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "EDeviceKeyBytes as received", de.EDeviceKeyBytes.Raw, ad(t, "e_device_key_bytes"))
		}},
		{"e_reader_key_d", "D.5.1", "its public key is (e_reader_key_x, e_reader_key_y)", func(t *testing.T) {
			equal(t, "EReaderKey", p256Priv(t, ad(t, "e_reader_key_d")).PublicKey().Bytes(), p256Pub(t, ad(t, "e_reader_key_x"), ad(t, "e_reader_key_y")).Bytes())
		}},
		{"e_reader_key_x", "D.5.1", "x of the session's EReaderKey", func(t *testing.T) {
			equal(t, "x", annexDReader(t).PrivateKey().PublicKey().Bytes()[1:33], ad(t, "e_reader_key_x"))
		}},
		{"e_reader_key_y", "D.5.1", "y of the session's EReaderKey", func(t *testing.T) {
			equal(t, "y", annexDReader(t).PrivateKey().PublicKey().Bytes()[33:], ad(t, "e_reader_key_y"))
		}},
		{"e_reader_key.pem", "D.5.1", "the PEM form of e_reader_key_d", func(t *testing.T) {
			_, file, _, _ := runtime.Caller(0)
			b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "annexd", "e_reader_key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := pem.Decode(b)
			if blk == nil {
				t.Fatal("no PEM block")
			}
			k, err := x509.ParseECPrivateKey(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			e, err := k.ECDH()
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "d", e.Bytes(), ad(t, "e_reader_key_d"))
		}},
		{"e_reader_key_cose", "D.5.1", "mdoc.EncodeCOSEKey of the EReaderKey", func(t *testing.T) {
			b, err := mdoc.EncodeCOSEKey(annexDReader(t).PrivateKey().PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "COSE_Key", b, ad(t, "e_reader_key_cose"))
		}},
		{"e_reader_key_bytes", "D.5.1", "EReaderKeyBytes of session.NewReaderWithKey", func(t *testing.T) {
			equal(t, "EReaderKeyBytes", annexDReader(t).EReaderKeyBytes().Raw, ad(t, "e_reader_key_bytes"))
		}},
		{"device_engagement_nfc", "D.5.1", "the iso.org:18013:deviceengagement record of the Handover Select, as nfc.ParseHandoverSelect finds it", func(t *testing.T) {
			hs, err := nfc.ParseHandoverSelect(ad(t, "handover_select_message"))
			if err != nil {
				t.Fatal(err)
			}
			cs, err := hs.CarrierSet()
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "DeviceEngagement", cs.DeviceEngagement, ad(t, "device_engagement_nfc"))
		}},
		{"device_engagement_bytes_nfc", "D.5.1", "tag 24 over the DeviceEngagement = SessionTranscript[0]", func(t *testing.T) {
			equal(t, "DeviceEngagementBytes", annexDReader(t).Transcript().DeviceEngagementBytes.Raw, ad(t, "device_engagement_bytes_nfc"))
		}},
		{"device_engagement_qr", "D.3.1", "mdoc.ParseDeviceEngagement: BLE mdoc central client mode with UUID 45efef74-…; the same EDeviceKey", func(t *testing.T) {
			de, err := mdoc.ParseDeviceEngagement(ad(t, "device_engagement_qr"))
			if err != nil {
				t.Fatal(err)
			}
			if len(de.RetrievalMethods) != 1 {
				t.Fatalf("%d retrieval methods", len(de.RetrievalMethods))
			}
			equal(t, "EDeviceKeyBytes", de.EDeviceKeyBytes.Raw, ad(t, "e_device_key_bytes"))
		}},
		{"handover_select_message", "D.5.1", "nfc.ParseHandoverSelect then Encode gives the same bytes", func(t *testing.T) {
			hs, err := nfc.ParseHandoverSelect(ad(t, "handover_select_message"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := hs.Encode()
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Hs", b, ad(t, "handover_select_message"))
		}},
		{"handover_request_message", "D.5.1", "nfc.ParseHandoverRequest (cr 0x0102) then Encode gives the same bytes", func(t *testing.T) {
			hr, err := nfc.ParseHandoverRequest(ad(t, "handover_request_message"))
			if err != nil {
				t.Fatal(err)
			}
			if hr.CollisionResolution != 0x0102 {
				t.Fatalf("cr %04x", hr.CollisionResolution)
			}
			b, err := hr.Encode()
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Hr", b, ad(t, "handover_request_message"))
		}},
		{"nfc_handover", "D.5.1", "session.NFCHandover(Hs, Hr)", func(t *testing.T) {
			h, err := session.NFCHandover(ad(t, "handover_select_message"), ad(t, "handover_request_message"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Handover", h.Raw, ad(t, "nfc_handover"))
		}},
		{"session_transcript", "D.5.1", "the SessionTranscript array of session.NewReaderWithKey", func(t *testing.T) {
			equal(t, "SessionTranscript", annexDReader(t).Transcript().ArrayBytes(), ad(t, "session_transcript"))
		}},
		{"session_transcript_bytes", "D.5.1", "tag 24 over the SessionTranscript", func(t *testing.T) {
			equal(t, "SessionTranscriptBytes", annexDReader(t).Transcript().Bytes(), ad(t, "session_transcript_bytes"))
		}},
		{"hkdf_salt", "D.5.1", "SHA-256(SessionTranscriptBytes)", func(t *testing.T) {
			s := sha256.Sum256(annexDReader(t).Transcript().Bytes())
			equal(t, "salt", s[:], ad(t, "hkdf_salt"))
		}},
		{"zab_session", "D.5.1", "ECDH(EReaderKey, EDeviceKey) = ECDH(EDeviceKey, EReaderKey)", func(t *testing.T) {
			z, err := annexDReader(t).PrivateKey().ECDH(p256Pub(t, ad(t, "e_device_key_x"), ad(t, "e_device_key_y")))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Z_AB", z, ad(t, "zab_session"))
			z2, err := p256Priv(t, ad(t, "e_device_key_d")).ECDH(p256Pub(t, ad(t, "e_reader_key_x"), ad(t, "e_reader_key_y")))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Z_AB the other way", z2, ad(t, "zab_session"))
		}},
		{"sk_reader", "D.5.1", "HKDF-SHA256(ECDH(EReaderKey, EDeviceKey), salt, \"SKReader\")", func(t *testing.T) {
			equal(t, "SKReader", sessionKey(t, "SKReader"), ad(t, "sk_reader"))
		}},
		{"sk_device", "D.5.1", "HKDF-SHA256(ECDH(EReaderKey, EDeviceKey), salt, \"SKDevice\")", func(t *testing.T) {
			equal(t, "SKDevice", sessionKey(t, "SKDevice"), ad(t, "sk_device"))
		}},
		{"session_establishment", "D.5.1", "session.Reader.Establish(device_request) with the Annex D keys", func(t *testing.T) {
			se, err := annexDReader(t).Establish(ad(t, "device_request"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "SessionEstablishment", se, ad(t, "session_establishment"))
		}},
		{"session_data", "D.5.1", "session.Reader.Open decrypts it to device_response; session.Device.Seal re-encrypts to the same bytes", func(t *testing.T) {
			r := annexDReader(t)
			if _, err := r.Establish(ad(t, "device_request")); err != nil {
				t.Fatal(err)
			}
			m, err := r.Open(ad(t, "session_data"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "DeviceResponse", m.Plaintext, ad(t, "device_response"))
			d := annexDDevice(t)
			if _, err := d.Establish(ad(t, "session_establishment")); err != nil {
				t.Fatal(err)
			}
			sd, err := d.Seal(ad(t, "device_response"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "SessionData", sd, ad(t, "session_data"))
		}},
		{"session_termination", "D.5.1", "session.Reader.Terminate", func(t *testing.T) {
			b, err := annexDReader(t).Terminate()
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "termination", b, ad(t, "session_termination"))
		}},
		{"device_request", "D.4.1.1", "session.Device.Establish decrypts session_establishment to it; mdoc.ParseDeviceRequest finds items_request_bytes and reader_auth", func(t *testing.T) {
			d := annexDDevice(t)
			req, err := d.Establish(ad(t, "session_establishment"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "DeviceRequest", req, ad(t, "device_request"))
			dr, err := mdoc.ParseDeviceRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "ItemsRequestBytes", dr.DocRequests[0].ItemsRequestBytes.Raw, ad(t, "items_request_bytes"))
			equal(t, "readerAuth", dr.DocRequests[0].ReaderAuth, ad(t, "reader_auth"))
		}},
		{"items_request", "D.4.1.1", "the content of items_request_bytes", func(t *testing.T) {
			tc, err := mdoc.ParseTaggedCBOR(ad(t, "items_request_bytes"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "ItemsRequest", tc.Inner, ad(t, "items_request"))
		}},
		{"items_request_bytes", "D.4.1.1", "tag 24 over items_request", func(t *testing.T) {
			equal(t, "ItemsRequestBytes", tagged(t, ad(t, "items_request")), ad(t, "items_request_bytes"))
		}},
		{"reader_auth", "D.4.1.1", "session.VerifyReaderAuth over the Annex D transcript and ItemsRequestBytes; its x5chain is reader_cert", func(t *testing.T) {
			irb, err := mdoc.ParseTaggedCBOR(ad(t, "items_request_bytes"))
			if err != nil {
				t.Fatal(err)
			}
			chain, err := session.VerifyReaderAuth(ad(t, "reader_auth"), annexDReader(t).Transcript(), irb)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "reader certificate", chain[0].Raw, ad(t, "reader_cert"))
		}},
		{"reader_authentication_bytes", "D.4.1.1", "tag 24 over [\"ReaderAuthentication\", SessionTranscript, ItemsRequestBytes]", func(t *testing.T) {
			inner, err := cbor.Marshal([]any{"ReaderAuthentication", cbor.RawMessage(ad(t, "session_transcript")), cbor.RawMessage(ad(t, "items_request_bytes"))})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "ReaderAuthenticationBytes", tagged(t, inner), ad(t, "reader_authentication_bytes"))
		}},
		{"reader_cert", "D.4.1.1", "signed by reader_root_cert", func(t *testing.T) {
			certSignedBy(t, "reader_cert", "reader_root_cert")
		}},
		{"reader_root_cert", "D.4.1.1", "a CA certificate whose key verifies reader_cert", func(t *testing.T) {
			root := cert(t, "reader_root_cert")
			if !root.IsCA {
				t.Fatal("not a CA")
			}
			certSignedBy(t, "reader_cert", "reader_root_cert")
		}},
		{"device_response", "D.4.1.2", "verify.Verify accepts it at 2021-01-01 with iaca_cert, the transcript and EReaderKey (deviceMac)", func(t *testing.T) {
			res := verifyAnnexD(t, annexDTime)
			if !res.Accepted() || res.Documents[0].DeviceAuth != verify.DeviceAuthMAC {
				t.Fatalf("not accepted: %+v", res.Failures)
			}
		}},
		{"issuer_signed", "D.4.1.2", "the issuerSigned of the DeviceResponse's document, as received", func(t *testing.T) {
			equal(t, "IssuerSigned", documentMember(t, "issuerSigned"), ad(t, "issuer_signed"))
		}},
		{"issuer_auth", "D.5.2", "issuerAuth of issuer_signed; its payload is mobile_security_object_bytes", func(t *testing.T) {
			var is map[string]cbor.RawMessage
			if err := cbor.Unmarshal(ad(t, "issuer_signed"), &is); err != nil {
				t.Fatal(err)
			}
			equal(t, "issuerAuth", is["issuerAuth"], ad(t, "issuer_auth"))
			equal(t, "payload", bstr(t, coseParts(t, ad(t, "issuer_auth"))[2]), ad(t, "mobile_security_object_bytes"))
		}},
		{"mobile_security_object_bytes", "D.5.2", "tag 24 over mobile_security_object", func(t *testing.T) {
			equal(t, "MobileSecurityObjectBytes", tagged(t, ad(t, "mobile_security_object")), ad(t, "mobile_security_object_bytes"))
		}},
		{"mobile_security_object", "D.5.2", "mdoc.ParseMSO: docType mDL, SHA-256, deviceKey = SDeviceKey", func(t *testing.T) {
			mso, err := mdoc.ParseMSO(ad(t, "mobile_security_object"))
			if err != nil {
				t.Fatal(err)
			}
			if mso.DocType != "org.iso.18013.5.1.mDL" || mso.DigestAlgorithm != "SHA-256" {
				t.Fatalf("mso %s %s", mso.DocType, mso.DigestAlgorithm)
			}
			equal(t, "deviceKey x", mso.DeviceKeyInfo.DeviceKey.X, ad(t, "s_device_key_x"))
		}},
		{"ds_cert", "D.5.2", "the x5chain (label 33) of issuer_auth; signed by iaca_cert", func(t *testing.T) {
			var unprot map[int]cbor.RawMessage
			if err := cbor.Unmarshal(coseParts(t, ad(t, "issuer_auth"))[1], &unprot); err != nil {
				t.Fatal(err)
			}
			equal(t, "x5chain", bstr(t, unprot[33]), ad(t, "ds_cert"))
			certSignedBy(t, "ds_cert", "iaca_cert")
		}},
		{"iaca_cert", "D.5.2", "the only trust anchor of the accepted device_response", func(t *testing.T) {
			res := verifyAnnexD(t, annexDTime)
			equal(t, "IACA", res.Documents[0].Issuer.IACA.Raw, ad(t, "iaca_cert"))
		}},
		{"issuer_signed_item_bytes_family_name", "D.5.2", "an IssuerSignedItemBytes of issuer_signed, as received", func(t *testing.T) {
			if !bytes.Contains(ad(t, "issuer_signed"), ad(t, "issuer_signed_item_bytes_family_name")) {
				t.Fatal("not in issuer_signed")
			}
		}},
		{"value_digest_family_name", "D.5.2", "SHA-256(IssuerSignedItemBytes) = MSO valueDigests[org.iso.18013.5.1][0]", func(t *testing.T) {
			s := sha256.Sum256(ad(t, "issuer_signed_item_bytes_family_name"))
			equal(t, "digest", s[:], ad(t, "value_digest_family_name"))
			mso, err := mdoc.ParseMSO(ad(t, "mobile_security_object"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "MSO digest 0", mso.ValueDigests.Map()["org.iso.18013.5.1"][0], ad(t, "value_digest_family_name"))
		}},
		{"portrait", "D.4.1.2", "the portrait element of the verified response", func(t *testing.T) {
			equal(t, "portrait", element(t, "portrait"), ad(t, "portrait"))
		}},
		{"driving_privileges", "D.2.1", "the driving_privileges element of the verified response, as received", func(t *testing.T) {
			equal(t, "driving_privileges", element(t, "driving_privileges"), ad(t, "driving_privileges"))
		}},
		{"s_device_key_d", "D.5.3", "its public key is (s_device_key_x, s_device_key_y)", func(t *testing.T) {
			equal(t, "SDeviceKey", p256Priv(t, ad(t, "s_device_key_d")).PublicKey().Bytes(), p256Pub(t, ad(t, "s_device_key_x"), ad(t, "s_device_key_y")).Bytes())
		}},
		{"s_device_key_x", "D.5.3", "x of the MSO deviceKey", func(t *testing.T) {
			mso, _ := mdoc.ParseMSO(ad(t, "mobile_security_object"))
			equal(t, "x", mso.DeviceKeyInfo.DeviceKey.X, ad(t, "s_device_key_x"))
		}},
		{"s_device_key_y", "D.5.3", "y of the MSO deviceKey", func(t *testing.T) {
			mso, _ := mdoc.ParseMSO(ad(t, "mobile_security_object"))
			equal(t, "y", mso.DeviceKeyInfo.DeviceKey.Y, ad(t, "s_device_key_y"))
		}},
		{"zab_emac", "D.5.3", "ECDH(EReaderKey, SDeviceKey) = ECDH(SDeviceKey, EReaderKey)", func(t *testing.T) {
			z, err := p256Priv(t, ad(t, "e_reader_key_d")).ECDH(p256Pub(t, ad(t, "s_device_key_x"), ad(t, "s_device_key_y")))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Z_AB", z, ad(t, "zab_emac"))
			z2, err := p256Priv(t, ad(t, "s_device_key_d")).ECDH(p256Pub(t, ad(t, "e_reader_key_x"), ad(t, "e_reader_key_y")))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Z_AB the other way", z2, ad(t, "zab_emac"))
		}},
		{"emac_key", "D.5.3", "HKDF-SHA256(Z_AB, salt, \"EMacKey\")", func(t *testing.T) {
			equal(t, "EMacKey", emacKey(t), ad(t, "emac_key"))
		}},
		{"device_name_spaces_bytes", "D.5.3", "the deviceSigned nameSpaces of the document, as received", func(t *testing.T) {
			var ds map[string]cbor.RawMessage
			if err := cbor.Unmarshal(documentMember(t, "deviceSigned"), &ds); err != nil {
				t.Fatal(err)
			}
			equal(t, "DeviceNameSpacesBytes", ds["nameSpaces"], ad(t, "device_name_spaces_bytes"))
		}},
		{"device_authentication_bytes", "D.5.3", "tag 24 over [\"DeviceAuthentication\", SessionTranscript, docType, DeviceNameSpacesBytes]", func(t *testing.T) {
			equal(t, "DeviceAuthenticationBytes", deviceAuthenticationBytes(t), ad(t, "device_authentication_bytes"))
		}},
		{"device_mac", "D.5.3", "the deviceMac of the document, as received", func(t *testing.T) {
			var ds map[string]cbor.RawMessage
			if err := cbor.Unmarshal(documentMember(t, "deviceSigned"), &ds); err != nil {
				t.Fatal(err)
			}
			var auth map[string]cbor.RawMessage
			if err := cbor.Unmarshal(ds["deviceAuth"], &auth); err != nil {
				t.Fatal(err)
			}
			equal(t, "deviceMac", auth["deviceMac"], ad(t, "device_mac"))
		}},
		{"device_mac_tag", "D.5.3", "HMAC-SHA256(EMacKey, [\"MAC0\", protected, h'', DeviceAuthenticationBytes])", func(t *testing.T) {
			parts := coseParts(t, ad(t, "device_mac"))
			equal(t, "tag in deviceMac", bstr(t, parts[3]), ad(t, "device_mac_tag"))
			ms, err := cbor.Marshal([]any{"MAC0", bstr(t, parts[0]), []byte{}, deviceAuthenticationBytes(t)})
			if err != nil {
				t.Fatal(err)
			}
			h := hmac.New(sha256.New, emacKey(t))
			h.Write(ms)
			equal(t, "tag", h.Sum(nil), ad(t, "device_mac_tag"))
		}},
		{"ble_ident", "8.3.3.1.1.4", "ble.Ident(EDeviceKeyBytes): HKDF-SHA256 with info \"BLEIdent\" (derived here, no published value)", func(t *testing.T) {
			id, err := ble.Ident(ad(t, "e_device_key_bytes"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Ident", id, ad(t, "ble_ident"))
		}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			c.run(t)
			mark(t, "annexd", c.name, c.clause, c.proof)
		})
	}
	_, file, _, _ := runtime.Caller(0)
	entries, err := os.ReadDir(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "annexd"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, e := range entries {
		if name := strings.TrimSuffix(e.Name(), ".hex"); !covered[name] {
			missing = append(missing, e.Name())
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("Annex D values without a reproduction here: %v", missing)
	}
}

func annexDDevice(t *testing.T) *session.Device {
	t.Helper()
	d, err := session.NewDevice(p256Priv(t, ad(t, "e_device_key_d")), ad(t, "device_engagement_nfc"), session.Handover{Raw: ad(t, "nfc_handover")})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sessionKey(t *testing.T, info string) []byte {
	t.Helper()
	r := annexDReader(t)
	z, err := r.PrivateKey().ECDH(p256Pub(t, ad(t, "e_device_key_x"), ad(t, "e_device_key_y")))
	if err != nil {
		t.Fatal(err)
	}
	salt := sha256.Sum256(r.Transcript().Bytes())
	k, err := hkdf.Key(sha256.New, z, salt[:], info, 32)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func emacKey(t *testing.T) []byte {
	t.Helper()
	salt := sha256.Sum256(ad(t, "session_transcript_bytes"))
	k, err := hkdf.Key(sha256.New, ad(t, "zab_emac"), salt[:], "EMacKey", 32)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func deviceAuthenticationBytes(t *testing.T) []byte {
	t.Helper()
	inner, err := cbor.Marshal([]any{"DeviceAuthentication", cbor.RawMessage(ad(t, "session_transcript")), "org.iso.18013.5.1.mDL", cbor.RawMessage(ad(t, "device_name_spaces_bytes"))})
	if err != nil {
		t.Fatal(err)
	}
	return tagged(t, inner)
}

func cert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(ad(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certSignedBy(t *testing.T, leaf, issuer string) {
	t.Helper()
	if err := cert(t, leaf).CheckSignatureFrom(cert(t, issuer)); err != nil {
		t.Fatal(err)
	}
}

func verifyAnnexD(t *testing.T, now time.Time) *verify.Result {
	t.Helper()
	res, _ := verify.Verify(ad(t, "device_response"), verify.Options{
		Trust: verify.NewTrustStore(cert(t, "iaca_cert")), Now: now,
		SessionTranscript: ad(t, "session_transcript_bytes"),
		ReaderKey:         p256Priv(t, ad(t, "e_reader_key_d")),
	})
	if res == nil {
		t.Fatal("no result")
	}
	return res
}

// documentMember returns a member of the first document of the Annex D
// DeviceResponse, as received.
func documentMember(t *testing.T, key string) []byte {
	t.Helper()
	var resp struct {
		Documents []map[string]cbor.RawMessage `cbor:"documents"`
	}
	if err := cbor.Unmarshal(ad(t, "device_response"), &resp); err != nil || len(resp.Documents) == 0 {
		t.Fatalf("DeviceResponse: %v", err)
	}
	return resp.Documents[0][key]
}

// element returns the raw elementValue of an element of the verified Annex
// D response.
func element(t *testing.T, id string) []byte {
	t.Helper()
	res := verifyAnnexD(t, annexDTime)
	for _, e := range res.Documents[0].Elements {
		if e.Identifier == id {
			if id == "portrait" {
				return bstr(t, e.Raw)
			}
			return e.Raw
		}
	}
	t.Fatalf("no element %s", id)
	return nil
}
