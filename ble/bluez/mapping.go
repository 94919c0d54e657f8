package bluez

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble"
)

// D-Bus names used by BlueZ (doc/org.bluez.*.rst in the BlueZ tree).
const (
	bluezService      = "org.bluez"
	ifaceAdapter      = "org.bluez.Adapter1"
	ifaceDevice       = "org.bluez.Device1"
	ifaceGattManager  = "org.bluez.GattManager1"
	ifaceGattService  = "org.bluez.GattService1"
	ifaceGattChar     = "org.bluez.GattCharacteristic1"
	ifaceAdvManager   = "org.bluez.LEAdvertisingManager1"
	ifaceAdvertisment = "org.bluez.LEAdvertisement1"
	ifaceProperties   = "org.freedesktop.DBus.Properties"
	ifaceObjManager   = "org.freedesktop.DBus.ObjectManager"
	busService        = "org.freedesktop.DBus"

	// defaultSystemBus is the well-known system bus socket (D-Bus
	// specification, "Well-known Message Bus Instances").
	defaultSystemBus = "unix:path=/var/run/dbus/system_bus_socket"
)

// uuidString is the form BlueZ uses on D-Bus: 128-bit, lowercase, canonical.
func uuidString(u ble.UUID) string { return u.String() }

// parseUUID reads a BlueZ UUID string; BlueZ always reports 128-bit forms but
// may use upper case in properties set by applications.
func parseUUID(s string) (ble.UUID, bool) {
	u, err := ble.ParseUUID(strings.ToLower(s))
	return u, err == nil
}

// charFlags maps ble properties to BlueZ GattCharacteristic1 "Flags"
// (Bluetooth Core Vol 3 Part G 3.3.1.1 names as BlueZ spells them).
func charFlags(p ble.Property) []string {
	var f []string
	if p&ble.PropRead != 0 {
		f = append(f, "read")
	}
	if p&ble.PropWrite != 0 {
		f = append(f, "write")
	}
	if p&ble.PropWriteWithoutResponse != 0 {
		f = append(f, "write-without-response")
	}
	if p&ble.PropNotify != 0 {
		f = append(f, "notify")
	}
	return f
}

// parseFlags maps BlueZ "Flags" back to ble properties; flags the ble package
// has no use for (indicate, broadcast, authenticated ones) are ignored.
func parseFlags(flags []string) ble.Property {
	var p ble.Property
	for _, f := range flags {
		switch f {
		case "read":
			p |= ble.PropRead
		case "write":
			p |= ble.PropWrite
		case "write-without-response":
			p |= ble.PropWriteWithoutResponse
		case "notify":
			p |= ble.PropNotify
		}
	}
	return p
}

// writeType picks the BlueZ WriteValue "type" option: "command" (ATT Write
// Command, no response) when the characteristic allows it, as 18013-5 asks
// for State and Client2Server; "request" otherwise.
func writeType(p ble.Property) string {
	if p&ble.PropWriteWithoutResponse != 0 {
		return "command"
	}
	return "request"
}

// parseAddress reads BlueZ's "AA:BB:CC:DD:EE:FF" address form.
func parseAddress(s string) (ble.Address, bool) {
	var a ble.Address
	if len(s) != 17 {
		return a, false
	}
	for i := range a {
		if i > 0 && s[3*i-1] != ':' {
			return ble.Address{}, false
		}
		v, err := strconv.ParseUint(s[3*i:3*i+2], 16, 8)
		if err != nil {
			return ble.Address{}, false
		}
		a[i] = byte(v)
	}
	return a, true
}

// devicePath is the object path BlueZ gives a remote device:
// <adapter>/dev_AA_BB_CC_DD_EE_FF.
func devicePath(adapter dbus.ObjectPath, a ble.Address) dbus.ObjectPath {
	return adapter + "/dev_" + dbus.ObjectPath(strings.ReplaceAll(a.String(), ":", "_"))
}

// validAdapterName accepts names that form one object path element, such as
// "hci0".
func validAdapterName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// mtuOption reads the "mtu" option BlueZ passes to ReadValue and WriteValue
// of a served characteristic (newer BlueZ); 0 when absent or out of range.
func mtuOption(opts map[string]dbus.Variant) int {
	v, ok := opts["mtu"]
	if !ok {
		return 0
	}
	return clampMTU(v.Value())
}

// clampMTU turns an MTU value from D-Bus (uint16 per the BlueZ API, though
// any integer is tolerated) into 23..517, or 0 when it is unusable.
func clampMTU(v any) int {
	var n int64
	switch x := v.(type) {
	case uint16:
		n = int64(x)
	case int16:
		n = int64(x)
	case uint32:
		n = int64(x)
	case int32:
		n = int64(x)
	case uint64:
		if x > 1<<16 {
			return 0
		}
		n = int64(x)
	case int64:
		n = x
	default:
		return 0
	}
	if n < ble.MinMTU {
		return 0
	}
	if n > ble.MaxMTU {
		return ble.MaxMTU
	}
	return int(n)
}

// deviceOption reads the "device" option (the remote Device1 object path).
func deviceOption(opts map[string]dbus.Variant) dbus.ObjectPath {
	if v, ok := opts["device"]; ok {
		if p, ok := v.Value().(dbus.ObjectPath); ok {
			return p
		}
	}
	return ""
}

// D-Bus and BlueZ error names that mean the link (or bluetoothd, which owns
// it) is gone.
var linkDownErrors = map[string]bool{
	"org.bluez.Error.NotConnected":                            true,
	"org.freedesktop.DBus.Error.UnknownObject":                true, // device object removed
	"org.freedesktop.DBus.Error.ServiceUnknown":               true, // bluetoothd gone
	"org.freedesktop.DBus.Error.NameHasNoOwner":               true,
	"org.freedesktop.DBus.Error.Disconnected":                 true, // bus gone
	"org.freedesktop.DBus.Error.NoReply":                      false,
	"org.bluez.Error.Failed:Not connected":                    true,
	"org.bluez.Error.Failed:Disconnected early":               true,
	"org.bluez.Error.Failed:Software caused connection abort": true,
}

// isLinkDown reports whether a D-Bus error says the connection is lost.
func isLinkDown(err error) bool {
	var de dbus.Error
	if errors.As(err, &de) {
		if linkDownErrors[de.Name] {
			return true
		}
		if len(de.Body) > 0 {
			if msg, ok := de.Body[0].(string); ok && linkDownErrors[de.Name+":"+msg] {
				return true
			}
		}
		return false
	}
	var pde *dbus.Error
	if errors.As(err, &pde) && pde != nil {
		return isLinkDown(*pde)
	}
	return errors.Is(err, dbus.ErrClosed)
}

// mapError wraps err from a BlueZ call made for op (a gerund phrase). It
// follows the ble adapter contract: an error wrapping ctx.Err() when ctx is
// done, one wrapping ble.ErrDisconnected when the link is down (down closed,
// or a D-Bus error that says so), and the D-Bus error otherwise.
func mapError(ctx context.Context, down <-chan struct{}, op string, err error) error {
	if err == nil {
		return nil
	}
	if closed(down) || isLinkDown(err) {
		return fmt.Errorf("bluez: %s: %w (%v)", op, ble.ErrDisconnected, err)
	}
	if ctx != nil && ctx.Err() != nil {
		return fmt.Errorf("bluez: %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("bluez: %s: %w", op, err)
}

// closed reports whether c is closed (a nil channel never is).
func closed(c <-chan struct{}) bool {
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// copyBytes returns a fresh copy (the adapter contract forbids keeping or
// handing out shared value slices).
func copyBytes(b []byte) []byte {
	return append([]byte{}, b...)
}
