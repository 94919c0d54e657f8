package terminal

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
)

// DefaultBLEConnectTimeout bounds the BLE connection set-up when
// BLEConfig.ConnectTimeout is zero: a phone needs a few seconds to scan,
// connect and discover the service after the tap.
const DefaultBLEConnectTimeout = 15 * time.Second

// BLEConfig gives the terminal a Bluetooth LE radio for data retrieval
// (ISO/IEC 18013-5 clause 8.3.3.1.1). The GATT roles are injected: the
// BlueZ adapter in the daemon, an in-memory link (ble/memlink) in tests. The
// zero value has no radio, and then no engagement offers BLE.
type BLEConfig struct {
	// Peripheral is the local LE peripheral / GATT server, used in mdoc
	// central client mode: the terminal advertises the service UUID it put
	// in its Handover Request (or the DeviceEngagement's key 11) and serves
	// Ident. nil: central client mode is unavailable.
	Peripheral ble.Peripheral
	// Central is the local LE central / GATT client, used in mdoc
	// peripheral server mode: the terminal scans for the wallet's UUID. nil:
	// peripheral server mode is unavailable.
	Central ble.Central
	// ConnectTimeout bounds the connection set-up, from advertising or
	// scanning to the wallet's State 0x01; 0 means DefaultBLEConnectTimeout.
	ConnectTimeout time.Duration
	// MaxMessageSize limits each received message; 0 means
	// ble.DefaultMaxMessageSize.
	MaxMessageSize int
}

func (c BLEConfig) connectTimeout() time.Duration {
	if c.ConnectTimeout > 0 {
		return c.ConnectTimeout
	}
	return DefaultBLEConnectTimeout
}

// route is the data retrieval the terminal picked at engagement.
type route struct {
	transport Transport
	// nfc is the wallet's NFC carrier record (NFC only).
	nfc *nfc.NFCCarrier
	// service and address are the BLE service UUID and, in peripheral
	// server mode, the wallet's address when the engagement gave one.
	service ble.UUID
	address *ble.Address
}

// preference returns the transports the terminal can use, in the
// configured order: NFC only when the engagement came over NFC, BLE modes
// only when the matching GATT role is configured.
func (c *Config) preference(nfcAvailable bool) []Transport {
	order := c.Transports
	if order == nil {
		order = DefaultTransports()
	}
	var out []Transport
	for _, t := range order {
		ok := false
		switch t {
		case TransportNFC:
			ok = nfcAvailable
		case TransportBLECentralClient:
			ok = c.BLE.Peripheral != nil
		case TransportBLEPeripheralServer:
			ok = c.BLE.Central != nil
		}
		if ok && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// requestCarriers builds the carriers of the terminal's Handover Request
// (ISO/IEC 18013-5 clause 8.2.2.1): NFC when usable, and BLE when a GATT role
// is configured, with the LE role of the terminal itself (CSS Part A 1.17:
// 0x00 peripheral only, 0x01 central only, 0x02 / 0x03 both, peripheral /
// central preferred) and, when it can be the peripheral, its own service
// UUID for mdoc central client mode (clause 8.3.3.1.1.2; Annex D's Hr has
// role 0x02 and a UUID).
func requestCarriers(pref []Transport, uuid ble.UUID) nfc.Carriers {
	var c nfc.Carriers
	if slices.Contains(pref, TransportNFC) {
		c.NFC = &nfc.NFCCarrier{Version: 1}
	}
	central := slices.Index(pref, TransportBLECentralClient)
	periph := slices.Index(pref, TransportBLEPeripheralServer)
	if central < 0 && periph < 0 {
		return c
	}
	oob := &nfc.BLEOOB{HasRole: true}
	switch {
	case central >= 0 && periph >= 0 && central < periph:
		oob.Role = nfc.LERoleBothPeripheralFirst
	case central >= 0 && periph >= 0:
		oob.Role = nfc.LERoleBothCentralFirst
	case central >= 0:
		oob.Role = nfc.LERolePeripheralOnly
	default:
		oob.Role = nfc.LERoleCentralOnly
	}
	if central >= 0 {
		oob.UUIDs = [][16]byte{uuid}
	}
	c.BLE = oob
	return c
}

// handoverOffers lists what the wallet selected in its Handover Select. The
// LE role in the mdoc's BLE record gives the mode (clause 8.2.2.3: 0x00 mdoc
// peripheral server mode, 0x01 mdoc central client mode, 0x02 / 0x03 both;
// no role: either). The service UUID is the Hs one, or in negotiated central
// client mode the terminal's own from its Hr (filled in by the nfc package);
// peripheral server mode needs a UUID the wallet chose.
func handoverOffers(res *nfc.HandoverResult) []route {
	var out []route
	cs := res.Carriers
	if cs.NFC != nil {
		out = append(out, route{transport: TransportNFC, nfc: cs.NFC})
	}
	if b := cs.BLE; b != nil && len(b.UUIDs) > 0 {
		central := !b.HasRole || b.Role != nfc.LERolePeripheralOnly
		periph := !b.HasRole || b.Role != nfc.LERoleCentralOnly
		if central {
			out = append(out, route{transport: TransportBLECentralClient, service: b.UUIDs[0]})
		}
		if periph && !res.BLEUUIDFromRequest {
			o := route{transport: TransportBLEPeripheralServer, service: b.UUIDs[0]}
			if len(b.Address) == 6 {
				// The OOB record carries the address little-endian.
				var a ble.Address
				for i := range a {
					a[i] = b.Address[5-i]
				}
				o.address = &a
			}
			out = append(out, o)
		}
	}
	return out
}

// engagementOffers lists the BLE retrieval methods of a DeviceEngagement
// (key 2, clause 8.2.2.1 and 8.2.2.3): key 11 for central client mode, key
// 10 (and address key 20) for peripheral server mode. NFC and Wi-Fi Aware
// methods are not used after a QR engagement.
func engagementOffers(de *mdoc.DeviceEngagement) []route {
	var out []route
	for _, rm := range de.RetrievalMethods {
		o := rm.BLE
		if rm.Type != mdoc.RetrievalBLE || o == nil {
			continue
		}
		if o.CentralClientMode && len(o.CentralClientUUID) == 16 {
			out = append(out, route{transport: TransportBLECentralClient, service: ble.UUID(o.CentralClientUUID)})
		}
		if o.PeripheralServerMode && len(o.PeripheralServerUUID) == 16 {
			r := route{transport: TransportBLEPeripheralServer, service: ble.UUID(o.PeripheralServerUUID)}
			if len(o.PeripheralServerAddress) == 6 {
				a := ble.Address(o.PeripheralServerAddress)
				r.address = &a
			}
			out = append(out, r)
		}
	}
	return out
}

// choose returns the first transport of pref that the wallet offered.
func choose(pref []Transport, offers []route) (route, error) {
	for _, t := range pref {
		for _, o := range offers {
			if o.transport == t {
				return o, nil
			}
		}
	}
	var names []string
	for _, o := range offers {
		names = append(names, string(o.transport))
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	usable := []string{"none"}
	for i, t := range pref {
		if i == 0 {
			usable = usable[:0]
		}
		usable = append(usable, string(t))
	}
	return route{}, fmt.Errorf("choosing a transport: %w (the wallet offers %s; the terminal can use %s)",
		ErrNoCarrier, strings.Join(names, ", "), strings.Join(usable, ", "))
}

// openBLE runs the BLE connection set-up of clause 8.3.3.1.1 for the route:
// in central client mode the terminal serves (advertises r.service and
// serves Ident = HKDF(EDeviceKeyBytes, "BLEIdent"), which the wallet reads
// and checks); in peripheral server mode it dials the wallet.
func openBLE(ctx context.Context, c BLEConfig, r route, de *mdoc.DeviceEngagement) (*bleTransport, error) {
	bc := ble.Config{
		Mode:           r.transport.bleMode(),
		Service:        r.service,
		MaxMessageSize: c.MaxMessageSize,
		ConnectTimeout: c.connectTimeout(),
		StartTimeout:   c.connectTimeout(),
	}
	var (
		conn *ble.Conn
		err  error
	)
	switch bc.Mode {
	case ble.ModeCentralClient:
		if bc.Ident, err = ble.Ident(de.EDeviceKeyBytes.Raw); err != nil {
			return nil, fmt.Errorf("deriving ble ident: %w", err)
		}
		conn, err = ble.Serve(ctx, c.Peripheral, bc)
	case ble.ModePeripheralServer:
		bc.Address = r.address
		conn, err = ble.Dial(ctx, c.Central, bc)
	default:
		return nil, fmt.Errorf("terminal: %q is not a ble transport", r.transport)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting over ble (%s, service %s): %w", bc.Mode, bc.Service, err)
	}
	return &bleTransport{conn: conn}, nil
}
