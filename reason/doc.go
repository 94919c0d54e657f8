// Package reason is the one registry of the stable reason codes a tap can
// end with: the verification codes (ISO/IEC 18013-5 clause 9.3.1, package
// verify), the acceptance-policy codes (package policy), the transport
// codes of a tap (NFC, BLE and the session, package terminal) and the
// daemon's own. Each [Code] has an English and a Japanese sentence for the
// holder and the clerk, and a meaning for the people who read logs.
//
// Codes are stable: tools, audit records, metrics and the point-of-sale API
// print them, and they never change meaning. The package is pure: a fixed
// table, no I/O.
package reason
