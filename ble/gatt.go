package ble

import "context"

// The GATT abstraction: the least that ISO/IEC 18013-5 BLE data retrieval
// needs from a Bluetooth stack, in both roles. Adapters (BlueZ over D-Bus,
// tinygo.org/x/bluetooth, the in-memory memlink link) implement it.
//
// Contract shared by every method below:
//   - a method blocks at most until ctx is done, and then returns an error
//     wrapping ctx.Err();
//   - after the link is lost, every method returns an error wrapping
//     [ErrDisconnected], and a method blocked at that moment returns at once;
//   - value slices passed in are not retained after the method returns, and
//     value slices handed out belong to the caller.

// Property is a set of GATT characteristic properties.
type Property uint8

// Characteristic properties (Bluetooth Core Vol 3 Part G 3.3.1.1). 18013-5
// uses: State notify + write without response, Client2Server write without
// response, Server2Client notify, Ident read.
const (
	PropRead Property = 1 << iota
	PropWrite
	PropWriteWithoutResponse
	PropNotify
)

// CharacteristicSpec describes one characteristic of a served service.
type CharacteristicSpec struct {
	UUID       UUID
	Properties Property
	// Value is returned to GATT reads (constant for the connection). Only
	// meaningful with PropRead.
	Value []byte
}

// Service describes the primary service a [Peripheral] publishes.
type Service struct {
	UUID            UUID
	Characteristics []CharacteristicSpec
}

// CharValue is one value written to, or notified from, a characteristic.
type CharValue struct {
	Characteristic UUID
	Value          []byte
}

// Peripheral is the local GATT-server role (LE peripheral).
type Peripheral interface {
	// Accept publishes svc, advertises svc.UUID as a complete list of 128-bit
	// service UUIDs, and waits for one central to connect. Advertising stops
	// when Accept returns. The returned connection is the connection event;
	// its Disconnected channel is the disconnection event.
	Accept(ctx context.Context, svc Service) (ServerConn, error)
}

// ServerConn is one connected GATT client, seen from the GATT server.
type ServerConn interface {
	// NextWrite returns the next value the client wrote (with or without
	// response) to any characteristic, in arrival order.
	NextWrite(ctx context.Context) (CharValue, error)
	// Notify sends value as a notification of the characteristic to the
	// client. It fails if the client has not subscribed to it. len(value)
	// must not exceed MTU()−3.
	Notify(ctx context.Context, char UUID, value []byte) error
	// MTU reports the ATT MTU currently negotiated (23 when none was).
	MTU() int
	// Disconnected is closed when the link goes down.
	Disconnected() <-chan struct{}
	// Close disconnects and removes the service. It may be called more than
	// once.
	Close() error
}

// ScanFilter selects the peripheral to connect to.
type ScanFilter struct {
	// Service must be among the advertised service UUIDs.
	Service UUID
	// Address, when not nil, must equal the advertiser's address (the
	// DeviceEngagement BLE option key 20 in peripheral server mode).
	Address *Address
}

// Advertisement is one matching advertising report.
type Advertisement struct {
	Address  Address
	Services []UUID
}

// Central is the local GATT-client role (LE central).
type Central interface {
	// Scan returns the first advertisement that matches f.
	Scan(ctx context.Context, f ScanFilter) (Advertisement, error)
	// Connect connects to the advertiser and negotiates the largest ATT MTU
	// the stack supports (18013-5 implementations request 515 or 517).
	Connect(ctx context.Context, adv Advertisement) (ClientConn, error)
}

// ClientConn is one connection to a GATT server, seen from the client.
type ClientConn interface {
	// Discover finds the primary service and the listed characteristics in
	// it; a missing one yields an error wrapping [ErrNotFound].
	Discover(ctx context.Context, service UUID, chars []UUID) error
	// Subscribe enables notifications of a discovered characteristic (writes
	// its Client Characteristic Configuration descriptor 0x2902).
	Subscribe(ctx context.Context, char UUID) error
	// NextNotification returns the next notification of any subscribed
	// characteristic, in arrival order.
	NextNotification(ctx context.Context) (CharValue, error)
	// Write writes value to a discovered characteristic, without response
	// when the characteristic allows it. len(value) must not exceed MTU()−3.
	Write(ctx context.Context, char UUID, value []byte) error
	// Read reads a discovered characteristic.
	Read(ctx context.Context, char UUID) ([]byte, error)
	// MTU reports the ATT MTU currently negotiated (23 when none was).
	MTU() int
	// Disconnected is closed when the link goes down.
	Disconnected() <-chan struct{}
	// Close unsubscribes and disconnects. It may be called more than once.
	Close() error
}
