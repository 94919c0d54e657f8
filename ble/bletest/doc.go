// Package bletest holds the conformance suite (RunConformance) that every
// adapter of the ble GATT abstraction must pass: the in-memory link of
// ble/memlink and the BlueZ adapter of ble/bluez. It imports testing and is
// for tests only; the in-memory link itself is ble/memlink.
package bletest
