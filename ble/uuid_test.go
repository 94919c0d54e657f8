package ble

import (
	"bytes"
	"strings"
	"testing"

	"github.com/idreader/idreader/internal/testvectors"
)

func readHex(t testing.TB, name string) []byte {
	t.Helper()
	return testvectors.File(t, "annexd/"+name)
}

// TestIdentAnnexD derives Ident from the Annex D (D.3.1 / D.5.1)
// EDeviceKeyBytes. testdata/annexd/ble_ident.hex was computed the way MPZ
// does (no published value exists), so this pins the derivation.
func TestIdentAnnexD(t *testing.T) {
	got, err := Ident(readHex(t, "e_device_key_bytes.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if want := readHex(t, "ble_ident.hex"); !bytes.Equal(got, want) {
		t.Fatalf("Ident = %x, want %x", got, want)
	}
	if _, err := Ident(nil); err == nil {
		t.Fatal("Ident(nil) succeeded")
	}
}

func TestCharacteristicUUIDs(t *testing.T) {
	// ISO/IEC 18013-5 clause 8.3.3.1.1.4 via MPZ (see characteristicUUID).
	tests := []struct {
		got  UUID
		want string
	}{
		{ModePeripheralServer.Characteristics().State, "00000001-a123-48ce-896b-4c76973373e6"},
		{ModePeripheralServer.Characteristics().Client2Server, "00000002-a123-48ce-896b-4c76973373e6"},
		{ModePeripheralServer.Characteristics().Server2Client, "00000003-a123-48ce-896b-4c76973373e6"},
		{ModeCentralClient.Characteristics().State, "00000005-a123-48ce-896b-4c76973373e6"},
		{ModeCentralClient.Characteristics().Client2Server, "00000006-a123-48ce-896b-4c76973373e6"},
		{ModeCentralClient.Characteristics().Server2Client, "00000007-a123-48ce-896b-4c76973373e6"},
		{ModeCentralClient.Characteristics().Ident, "00000008-a123-48ce-896b-4c76973373e6"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("got %v, want %s", tt.got, tt.want)
		}
	}
	if ModePeripheralServer.Characteristics().HasIdent || len(ModePeripheralServer.Characteristics().All()) != 3 {
		t.Error("peripheral server mode must not use Ident")
	}
	if len(ModeCentralClient.Characteristics().All()) != 4 {
		t.Error("central client mode must list Ident")
	}
	if Mode(0).Characteristics() != (Characteristics{}) {
		t.Error("unknown mode has characteristics")
	}
}

func TestParseUUID(t *testing.T) {
	// The Annex D Handover Request UUID (see the vectors README).
	const s = "3a82d455-d5fc-4db3-bea0-6fd2f6ff32c8"
	u, err := ParseUUID(strings.ToUpper(s))
	if err != nil {
		t.Fatal(err)
	}
	if u.String() != s || u[0] != 0x3a || u[15] != 0xc8 {
		t.Fatalf("ParseUUID = %v (% x)", u, u[:])
	}
	for _, bad := range []string{"", s[:35], s + "0", "3a82d455xd5fc-4db3-bea0-6fd2f6ff32c8", "3a82d455-d5fc-4db3-bea0-6fd2f6ff32cg"} {
		if _, err := ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) succeeded", bad)
		}
	}
	if a := (Address{0x28, 0x28, 0x37, 0x8b, 0x12, 0x28}); a.String() != "28:28:37:8B:12:28" {
		t.Errorf("Address.String = %s", a)
	}
}

func FuzzParseUUID(f *testing.F) {
	f.Add("3a82d455-d5fc-4db3-bea0-6fd2f6ff32c8")
	f.Add("00000008-A123-48CE-896B-4C76973373E6")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUUID(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(u.String(), s) {
			t.Fatalf("round trip %q -> %q", s, u.String())
		}
	})
}
