// Package ble implements the Bluetooth Low Energy data retrieval transport of
// ISO/IEC 18013-5 clause 8.3.3.1.1 (GATT only; the optional L2CAP
// connection-oriented channel is not implemented) for both the mdoc reader and
// the mdoc (wallet), in pure Go with no I/O of its own.
//
// The radio is reached through a small GATT abstraction with two roles:
// [Peripheral] / [ServerConn] (advertise a 128-bit service UUID and act as GATT
// server) and [Central] / [ClientConn] (scan, connect, discover, subscribe,
// read and write as GATT client). A BlueZ adapter (D-Bus or
// tinygo.org/x/bluetooth) implements those four interfaces at the edge;
// package memlink implements them in memory, and package bletest holds the
// conformance suite every implementation passes.
//
// Which side is the GATT server depends on the mode chosen at engagement:
//
//	mode                        GATT server (Serve)   GATT client (Dial)   characteristics
//	mdoc central client mode    mdoc reader           mdoc                 00000005..8-a123-… (with Ident)
//	mdoc peripheral server mode mdoc                  mdoc reader          00000001..3-a123-… (no Ident)
//
// [Serve] and [Dial] run the connection set-up (advertise or scan, connect,
// Ident check in central client mode, subscriptions, State 0x01 "start") and
// return a [Conn], a message transport with Send, Receive and Close that the
// session layer shares with NFC data retrieval. Messages (SessionEstablishment,
// SessionData) are opaque bytes here; they are split into chunks of at most
// min(MTU−3, 512) bytes, each led by 0x01 (more follows) or 0x00 (last), and
// reassembled up to a caller-chosen size limit ([Reassembler]).
//
// Every step has a timeout ([Config]); callers branch on the sentinels
// [ErrDisconnected], [ErrTimeout], [ErrIdentMismatch], [ErrMessageTooLarge],
// [ErrProtocol] and [ErrSessionEnded] with errors.Is.
//
// Facts not taken from the ISO text (which was not available) come from
// public implementations, cited where used: MPZ = openwallet-foundation/multipaz
// and its predecessor google/identity-credential.
package ble
