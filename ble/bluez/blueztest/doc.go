// Package blueztest holds test helpers for code that talks to bluetoothd over
// D-Bus: a private dbus-daemon a fake BlueZ can own names on. It is for tests
// only; the binaries never link it.
package blueztest
