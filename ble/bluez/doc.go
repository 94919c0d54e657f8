// Package bluez implements the GATT abstraction of package ble
// ([ble.Peripheral] / [ble.ServerConn] and [ble.Central] / [ble.ClientConn])
// on Linux with BlueZ (bluetoothd) over the system D-Bus, for ISO/IEC
// 18013-5 BLE data retrieval (clause 8.3.3.1.1) in both roles:
//
//   - Peripheral (the reader in mdoc central client mode, which Apple Wallet
//     requires): an LE advertisement registered with
//     org.bluez.LEAdvertisingManager1 carrying the 128-bit service UUID, and
//     a GATT application registered with org.bluez.GattManager1 whose
//     characteristics are served from this process (ReadValue, WriteValue,
//     StartNotify/StopNotify, notifications as PropertiesChanged on Value).
//   - Central (the reader in mdoc peripheral server mode): discovery with a
//     service UUID filter (org.bluez.Adapter1.SetDiscoveryFilter), Device1
//     Connect, GattService1/GattCharacteristic1 lookup, StartNotify, ReadValue
//     and WriteValue (type "command" or "request").
//
// It talks D-Bus directly with github.com/godbus/dbus/v5 rather than through
// tinygo.org/x/bluetooth, whose Linux GATT server reports neither the
// writing device nor the ATT MTU, has no notion of subscription, and
// dispatches incoming calls without keeping their order. Here every incoming
// D-Bus message is seen in arrival order by an interceptor on the reader
// goroutine, so writes and notifications keep the order BlueZ sent them in.
//
// MTU: as a GATT server, BlueZ passes the ATT MTU in the "mtu" option of
// ReadValue and WriteValue; as a GATT client it exposes a
// GattCharacteristic1 "MTU" property. Both exist only in newer BlueZ
// releases (the exact version was not checked); where neither is given, MTU
// reports 23, the ATT default.
//
// Only cmd/ imports this package (the layout's dependency rule); it has no
// cgo and builds on every platform, though it can only work where a system
// D-Bus and bluetoothd run.
package bluez
