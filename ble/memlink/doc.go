// Package memlink is an in-memory GATT link that implements both roles of
// the ble GATT abstraction ([ble.Peripheral] / [ble.ServerConn] and
// [ble.Central] / [ble.ClientConn]) in one process, with a configurable ATT
// MTU, zero latency, and fault hooks (drop the connection, stall, rewrite
// values). The demo daemon and `idreader selftest` run the ISO/IEC 18013-5
// BLE transport over it, and tests inject faults through it; it links no
// test code, so production binaries may use it. The adapter conformance
// suite that also runs over it lives in ble/bletest.
package memlink
