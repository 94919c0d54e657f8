// Package blerig holds the tests that run inside the BlueZ rig
// (.ci/with-ble-rig): a small virtual machine with two virtual LE
// controllers (hci0, hci1), the kernel's Bluetooth stack and a real
// bluetoothd. They drive idreader's BLE data retrieval (ISO/IEC 18013-5
// clause 8.3.3.1.1) through BlueZ end to end: the reader on hci0, the
// simulated wallet on hci1.
//
// The tests are built only with the build tag blerig and skip unless
// IDREADER_BLE_RIG=1 (set by the rig). Run them with
//
//	.ci/with-ble-rig .ci/ble-rig-tests
//
// The package has no non-test code.
package blerig
