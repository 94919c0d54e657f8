package ble

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// UUID is a 128-bit Bluetooth UUID in big-endian (textual) byte order, the
// order of DeviceEngagement BLE options keys 10 and 11. The NFC BLE OOB record
// carries it little-endian; reversing it is the handover parser's job.
type UUID [16]byte

// ParseUUID parses the canonical 8-4-4-4-12 hexadecimal form (either case).
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, errors.New("ble: malformed uuid")
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return UUID{}, fmt.Errorf("ble: malformed uuid: %w", err)
	}
	return u, nil
}

// String returns the canonical lowercase 8-4-4-4-12 form.
func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Address is a Bluetooth device address in display order (most significant
// byte first, "AA:BB:CC:DD:EE:FF"), as in DeviceEngagement BLE option key 20.
type Address [6]byte

// String returns the colon-separated uppercase form.
func (a Address) String() string {
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", a[0], a[1], a[2], a[3], a[4], a[5])
}

// Mode is the 18013-5 BLE mode agreed at engagement.
type Mode int

const (
	// ModePeripheralServer is mdoc peripheral server mode: the mdoc
	// advertises and is the GATT server, the reader is the GATT client.
	ModePeripheralServer Mode = iota + 1
	// ModeCentralClient is mdoc central client mode: the reader advertises
	// and is the GATT server, the mdoc is the GATT client and checks Ident.
	ModeCentralClient
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case ModePeripheralServer:
		return "mdoc peripheral server mode"
	case ModeCentralClient:
		return "mdoc central client mode"
	}
	return fmt.Sprintf("ble mode %d", int(m))
}

// Characteristics are the GATT characteristic UUIDs of one mode's service.
type Characteristics struct {
	State         UUID // notify + write without response; 0x01 start, 0x02 end
	Client2Server UUID // write without response; GATT client to server chunks
	Server2Client UUID // notify; GATT server to client chunks
	Ident         UUID // read; zero in peripheral server mode, which has none
	HasIdent      bool // Ident is used (central client mode only)
}

// All lists the characteristics of the service, Ident included when used.
func (c Characteristics) All() []UUID {
	u := []UUID{c.State, c.Client2Server, c.Server2Client}
	if c.HasIdent {
		u = append(u, c.Ident)
	}
	return u
}

// characteristicUUID returns 0000000n-a123-48ce-896b-4c76973373e6, the base
// shared by all 18013-5 BLE characteristics (ISO/IEC 18013-5 clause
// 8.3.3.1.1.4 tables; values as in MPZ DataTransportBlePeripheralServerMode
// and DataTransportBleCentralClientMode).
func characteristicUUID(n byte) UUID {
	return UUID{0, 0, 0, n, 0xa1, 0x23, 0x48, 0xce, 0x89, 0x6b, 0x4c, 0x76, 0x97, 0x33, 0x73, 0xe6}
}

// Characteristics returns the characteristic UUIDs of the mode (ISO/IEC
// 18013-5 clause 8.3.3.1.1.4):
//
//	peripheral server mode: State 00000001, Client2Server 00000002, Server2Client 00000003, no Ident
//	central client mode:    State 00000005, Client2Server 00000006, Server2Client 00000007, Ident 00000008
//
// (all -a123-48ce-896b-4c76973373e6; MPZ notes "Ident UUID not used in
// peripheral server mode"). An unknown mode yields the zero value.
func (m Mode) Characteristics() Characteristics {
	switch m {
	case ModePeripheralServer:
		return Characteristics{
			State:         characteristicUUID(1),
			Client2Server: characteristicUUID(2),
			Server2Client: characteristicUUID(3),
		}
	case ModeCentralClient:
		return Characteristics{
			State:         characteristicUUID(5),
			Client2Server: characteristicUUID(6),
			Server2Client: characteristicUUID(7),
			Ident:         characteristicUUID(8),
			HasIdent:      true,
		}
	}
	return Characteristics{}
}

// IdentSize is the length of the Ident characteristic value.
const IdentSize = 16

// Ident returns the Ident characteristic value for mdoc central client mode:
// HKDF-SHA256 with IKM = EDeviceKeyBytes (the tag-24 item exactly as in the
// DeviceEngagement), an empty salt, info "BLEIdent" and 16 bytes of output
// (ISO/IEC 18013-5 clause 8.3.3.1.1.4; as computed in MPZ GattClient.connect).
func Ident(eDeviceKeyBytes []byte) ([]byte, error) {
	if len(eDeviceKeyBytes) == 0 {
		return nil, errors.New("ble: empty EDeviceKeyBytes")
	}
	id, err := hkdf.Key(sha256.New, eDeviceKeyBytes, nil, "BLEIdent", IdentSize)
	if err != nil {
		return nil, fmt.Errorf("ble: deriving ident: %w", err)
	}
	return id, nil
}
