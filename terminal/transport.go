package terminal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/nfc"
)

// Transport names a data retrieval method the terminal can use once the
// engagement is done (ISO/IEC 18013-5 clause 8.3.3.1): NFC data transfer or
// Bluetooth LE in one of its two modes.
type Transport string

// Transports, named as `idreader selftest --transport` spells them.
const (
	// TransportNFC is NFC data transfer (clause 8.3.3.1.2): ENVELOPE and GET
	// RESPONSE on the NFC reader that did the engagement.
	TransportNFC Transport = "nfc"
	// TransportBLECentralClient is BLE in mdoc central client mode (clause
	// 8.3.3.1.1): the terminal is the LE peripheral and GATT server, it
	// advertises the service UUID and serves Ident; the wallet connects.
	// Apple Wallet offers only this mode.
	TransportBLECentralClient Transport = "ble-central"
	// TransportBLEPeripheralServer is BLE in mdoc peripheral server mode:
	// the wallet advertises, the terminal scans, connects and is the GATT
	// client.
	TransportBLEPeripheralServer Transport = "ble-peripheral"
)

// DefaultTransports returns the preference order used when
// Config.Transports is nil: NFC first (the phone is already on the reader),
// then BLE in mdoc central client mode, then peripheral server mode.
func DefaultTransports() []Transport {
	return []Transport{TransportNFC, TransportBLECentralClient, TransportBLEPeripheralServer}
}

// ParseTransport reads "nfc", "ble-central" or "ble-peripheral".
func ParseTransport(s string) (Transport, error) {
	switch t := Transport(strings.ToLower(strings.TrimSpace(s))); t {
	case TransportNFC, TransportBLECentralClient, TransportBLEPeripheralServer:
		return t, nil
	}
	return "", fmt.Errorf("terminal: unknown transport %q (nfc, ble-central, ble-peripheral)", s)
}

// bleMode is the 18013-5 BLE mode of a BLE transport (zero for NFC).
func (t Transport) bleMode() ble.Mode {
	switch t {
	case TransportBLECentralClient:
		return ble.ModeCentralClient
	case TransportBLEPeripheralServer:
		return ble.ModePeripheralServer
	}
	return 0
}

// MessageTransport carries whole 18013-5 messages (SessionEstablishment,
// SessionData) between the terminal and the wallet after engagement. From
// the SessionTranscript on, NFC and BLE differ only in this (ISO/IEC 18013-5
// clause 8.3.3.1).
type MessageTransport interface {
	// Exchange sends one message and returns the wallet's reply.
	Exchange(ctx context.Context, msg []byte) ([]byte, error)
	// Terminate ends the session (clause 9.1.1.4). end is SessionData
	// {"status": 20}, or 10 or 11 when the wallet's message was refused:
	// NFC data transfer sends it; BLE sends it too and then ends with its
	// transport-specific termination, State 0x02 and a disconnect (clause
	// 8.3.3.1.1.7).
	Terminate(ctx context.Context, end []byte) error
	// Close releases the transport; over BLE it ends the session with
	// State 0x02 if that was not done yet. It may be called more than once
	// and after Terminate.
	Close(ctx context.Context) error
}

// nfcTransport is NFC data transfer over the engagement's reader (clause
// 8.3.3.1.2). The transceiver belongs to the caller, so Close does nothing.
type nfcTransport struct{ exch *nfc.Exchanger }

// openNFC selects the data transfer application.
func openNFC(ctx context.Context, t nfc.Transceiver, lim nfc.Limits, carrier *nfc.NFCCarrier) (*nfcTransport, error) {
	exch := nfc.NewExchanger(t, lim, carrier)
	if err := exch.Select(ctx); err != nil {
		return nil, fmt.Errorf("selecting data transfer: %w", err)
	}
	return &nfcTransport{exch: exch}, nil
}

func (n *nfcTransport) Exchange(ctx context.Context, msg []byte) ([]byte, error) {
	return n.exch.Exchange(ctx, msg)
}

// Terminate sends the termination message; the wallet answers it with an
// empty TLV 53, which is discarded.
func (n *nfcTransport) Terminate(ctx context.Context, end []byte) error {
	_, err := n.exch.Exchange(ctx, end)
	return err
}

func (n *nfcTransport) Close(context.Context) error { return nil }

// bleTransport is an established ble.Conn.
type bleTransport struct{ conn *ble.Conn }

// Exchange sends msg and waits for the next message from the wallet.
func (b *bleTransport) Exchange(ctx context.Context, msg []byte) ([]byte, error) {
	if err := b.conn.Send(ctx, msg); err != nil {
		return nil, err
	}
	return b.conn.Receive(ctx)
}

// Terminate sends the status message, then State 0x02 and a disconnect
// (clause 8.3.3.1.1.7). A wallet that ends the link as soon as it reads the
// status has done what both were for.
func (b *bleTransport) Terminate(ctx context.Context, end []byte) error {
	if err := b.conn.Send(ctx, end); err != nil {
		if errors.Is(err, ble.ErrDisconnected) || errors.Is(err, ble.ErrSessionEnded) {
			return nil
		}
		return err
	}
	return b.Close(ctx)
}

func (b *bleTransport) Close(ctx context.Context) error {
	err := b.conn.Close(ctx)
	if errors.Is(err, ble.ErrDisconnected) {
		return nil
	}
	return err
}
