package nfc_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/idreader/idreader/nfc"
)

var ndefSeeds = []string{
	"annexd/handover_select_message.hex",
	"annexd/handover_request_message.hex",
	"interop/apple_wallet_handover_select_message.hex",
	"interop/apple_wallet_initial_ndef_message.hex",
	"interop/apple_wallet_tnep_status_message.hex",
	"interop/multipaz_negotiated_handover_select_message.hex",
}

func seedNDEF(f *testing.F) {
	for _, s := range ndefSeeds {
		f.Add(vector(f, s))
	}
	f.Add(mustHex(f, "ba 03 02 01 742f78 63 6162  36 00 02 6364  56 00 01 65"))
}

func FuzzParseCommand(f *testing.F) {
	for _, h := range []string{"00a40102", "00b000000f", "00a4040007d276000085010100", "00b00000000400",
		"00c300000000020102 0000", "10c300000109", "00c000000010", "00d6000000012c"} {
		f.Add(mustHex(f, h))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := nfc.ParseCommand(b)
		if err != nil {
			return
		}
		enc, err := c.Encode()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("round trip %x → %+v → %x (%v)", b, c, enc, err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0x90, 0x00})
	f.Add([]byte{1, 2, 0x61, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := nfc.ParseResponse(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatal("round trip")
		}
		_ = r.Err()
	})
}

func FuzzParseMessage(f *testing.F) {
	seedNDEF(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := nfc.ParseMessage(b)
		if err != nil {
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		m2, err := nfc.ParseMessage(enc)
		if err != nil || len(m2) != len(m) {
			t.Fatalf("reparse: %v", err)
		}
		for i := range m {
			if m[i].TNF != m2[i].TNF || !bytes.Equal(m[i].Type, m2[i].Type) || !bytes.Equal(m[i].ID, m2[i].ID) || !bytes.Equal(m[i].Payload, m2[i].Payload) {
				t.Fatalf("record %d differs", i)
			}
		}
	})
}

func FuzzParseHandoverSelect(f *testing.F) {
	seedNDEF(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := nfc.ParseHandoverSelect(b)
		if err != nil {
			return
		}
		_, _ = hs.CarrierSet()
		enc, err := hs.Encode()
		if err != nil {
			return // e.g. an ac with an empty reference cannot be re-encoded
		}
		if _, err := nfc.ParseHandoverSelect(enc); err != nil {
			t.Fatalf("reparse: %v", err)
		}
	})
}

func FuzzParseHandoverRequest(f *testing.F) {
	seedNDEF(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		hr, err := nfc.ParseHandoverRequest(b)
		if err != nil {
			return
		}
		_, _ = hr.CarrierSet()
		enc, err := hr.Encode()
		if err != nil {
			return
		}
		if _, err := nfc.ParseHandoverRequest(enc); err != nil {
			t.Fatalf("reparse: %v", err)
		}
	})
}

func FuzzParseCapabilityContainer(f *testing.F) {
	f.Add(vector(f, "interop/apple_wallet_cc_file.hex"))
	f.Add(mustHex(f, "000f207fff7fff0406e1047fff00ff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cc, err := nfc.ParseCapabilityContainer(b)
		if err != nil {
			return
		}
		back, err := nfc.ParseCapabilityContainer(cc.Encode())
		if err != nil || back != cc {
			t.Fatalf("round trip %+v %v", back, err)
		}
	})
}

func FuzzParseBLEOOB(f *testing.F) {
	f.Add(mustHex(f, "081b28078080bf2801021c021107c832fff6d26fa0beb34dfcd555d4823a"))
	f.Add(mustHex(f, "081b28128b37282801021c01"))
	f.Add(mustHex(f, "071b010203040506 021c00 03770102"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := nfc.ParseBLEOOB(b)
		if err != nil {
			return
		}
		enc, err := o.Encode()
		if err != nil {
			return // e.g. more than 15 UUIDs cannot be written in one AD
		}
		back, err := nfc.ParseBLEOOB(enc)
		if err != nil || !reflect.DeepEqual(normBLE(back), normBLE(o)) {
			t.Fatalf("round trip %+v vs %+v (%v)", back, o, err)
		}
	})
}

func normBLE(o nfc.BLEOOB) nfc.BLEOOB {
	if len(o.Other) == 0 {
		o.Other = nil
	}
	for i := range o.Other {
		if len(o.Other[i].Data) == 0 {
			o.Other[i].Data = nil
		}
	}
	return o
}

func FuzzParseNFCCarrier(f *testing.F) {
	f.Add([]byte{1})
	f.Add(mustHex(f, "01 0301ffff 0402010000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := nfc.ParseNFCCarrier(b)
		if err != nil {
			return
		}
		enc, err := n.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if back, err := nfc.ParseNFCCarrier(enc); err != nil || back != n {
			t.Fatalf("round trip %+v %v", back, err)
		}
	})
}

func FuzzParseServiceParameter(f *testing.F) {
	f.Add(mustHex(f, "101375726e3a6e66633a736e3a68616e646f76657200140f0800"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, err := nfc.ParseServiceParameter(b)
		if err != nil {
			return
		}
		r, err := sp.Record()
		if err != nil || !bytes.Equal(r.Payload, b) {
			t.Fatalf("round trip %x %v", r.Payload, err)
		}
		_ = sp.WaitTime()
	})
}

func FuzzParseTLV53(f *testing.F) {
	f.Add(mustHex(f, "5300"))
	f.Add(mustHex(f, "538180"+string(bytes.Repeat([]byte("00"), 0x80))))
	f.Add(mustHex(f, "5382010000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := nfc.ParseTLV53(b)
		if err != nil {
			return
		}
		w, err := nfc.WrapTLV53(v)
		if err != nil || !bytes.Equal(w, b) {
			t.Fatalf("round trip %x %v", w, err)
		}
	})
}
