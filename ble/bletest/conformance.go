package bletest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
)

// ConformanceService is the service UUID RunConformance advertises
// (random, not an 18013-5 session UUID).
var ConformanceService = ble.UUID{0x6f, 0x3c, 0x0b, 0x5e, 0x9d, 0x1a, 0x4c, 0x33, 0xa7, 0xe4, 0x5b, 0x0e, 0x1d, 0x2c, 0x3a, 0x40}

// conformanceStep bounds each step of RunConformance; generous, because
// with real radios advertising, scanning and connecting take seconds.
const conformanceStep = 30 * time.Second

// RunConformance checks that a GATT adapter pair follows the contract of
// package ble: p publishes the 18013-5 mdoc central client mode service
// (State, Client2Server, Server2Client, Ident) under ConformanceService,
// c scans for it, connects, discovers, reads Ident, subscribes, and values
// cross both ways in order; missing services and characteristics wrap
// ble.ErrNotFound, waits end with the context, value slices are not kept,
// MTUs lie in 23..517, and after the client closes both sides report
// ble.ErrDisconnected. It is shared by the in-memory Link and real adapters
// (ble/bluez, opt-in with hardware), habit 13 of the design notes.
func RunConformance(t *testing.T, p ble.Peripheral, c ble.Central) {
	t.Helper()
	chars := ble.ModeCentralClient.Characteristics()
	ident := []byte("conformance-id16")
	svc := ble.Service{UUID: ConformanceService, Characteristics: []ble.CharacteristicSpec{
		{UUID: chars.State, Properties: ble.PropNotify | ble.PropWriteWithoutResponse},
		{UUID: chars.Client2Server, Properties: ble.PropWriteWithoutResponse},
		{UUID: chars.Server2Client, Properties: ble.PropNotify},
		{UUID: chars.Ident, Properties: ble.PropRead, Value: slices.Clone(ident)},
	}}
	step := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), conformanceStep)
	}

	// Advertise, scan, connect.
	type accepted struct {
		s   ble.ServerConn
		err error
	}
	ach := make(chan accepted, 1)
	actx, acancel := step()
	defer acancel()
	go func() {
		s, err := p.Accept(actx, svc)
		ach <- accepted{s, err}
	}()
	ctx, cancel := step()
	adv, err := c.Scan(ctx, ble.ScanFilter{Service: ConformanceService})
	cancel()
	if err != nil {
		t.Fatalf("scanning: %v", err)
	}
	if !slices.Contains(adv.Services, ConformanceService) {
		t.Errorf("advertisement %v does not list %v", adv.Services, ConformanceService)
	}
	ctx, cancel = step()
	cc, err := c.Connect(ctx, adv)
	cancel()
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer cc.Close()
	var sc ble.ServerConn
	ctx, cancel = step()
	defer cancel()

	// Discovery: absent service and characteristic wrap ErrNotFound.
	if err := cc.Discover(ctx, ble.UUID{15: 0xee}, nil); !errors.Is(err, ble.ErrNotFound) {
		t.Errorf("discovering an absent service: %v, want ErrNotFound", err)
	}
	if err := cc.Discover(ctx, ConformanceService, append(chars.All(), ble.UUID{15: 0xef})); !errors.Is(err, ble.ErrNotFound) {
		t.Errorf("discovering an absent characteristic: %v, want ErrNotFound", err)
	}
	if err := cc.Discover(ctx, ConformanceService, chars.All()); err != nil {
		t.Fatalf("discovering: %v", err)
	}

	// Ident read; the returned slice is the caller's.
	got, err := cc.Read(ctx, chars.Ident)
	if err != nil || !bytes.Equal(got, ident) {
		t.Fatalf("reading Ident: %x, %v; want %x", got, err, ident)
	}
	got[0] ^= 0xff
	if again, err := cc.Read(ctx, chars.Ident); err != nil || !bytes.Equal(again, ident) {
		t.Errorf("reading Ident after changing the first result: %x, %v", again, err)
	}

	for _, u := range []ble.UUID{chars.Server2Client, chars.State} {
		if err := cc.Subscribe(ctx, u); err != nil {
			t.Fatalf("subscribing to %v: %v", u, err)
		}
	}
	// The first write is the connection's first GATT use on some stacks
	// (BlueZ reports the device with it), so Accept may return only now.
	if err := cc.Write(ctx, chars.State, []byte{0x01}); err != nil {
		t.Fatalf("writing State start: %v", err)
	}
	select {
	case a := <-ach:
		if a.err != nil {
			t.Fatalf("accepting: %v", a.err)
		}
		sc = a.s
	case <-ctx.Done():
		t.Fatal("accepting: no connection reported")
	}
	defer sc.Close()
	if v, err := sc.NextWrite(ctx); err != nil || v.Characteristic != chars.State || !bytes.Equal(v.Value, []byte{1}) {
		t.Fatalf("State start seen by the server: %v %x, %v", v.Characteristic, v.Value, err)
	}

	for name, m := range map[string]int{"server": sc.MTU(), "client": cc.MTU()} {
		if m < ble.MinMTU || m > ble.MaxMTU {
			t.Errorf("%s MTU %d outside %d..%d", name, m, ble.MinMTU, ble.MaxMTU)
		}
	}

	// Writes arrive in order; the buffer is reused at once (not kept).
	const n = 64
	size := min(cc.MTU()-3, 20)
	buf := make([]byte, size)
	for i := range n {
		for j := range buf {
			buf[j] = byte(i + j)
		}
		if err := cc.Write(ctx, chars.Client2Server, buf); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		clear(buf)
	}
	full := bytes.Repeat([]byte{0xa5}, cc.MTU()-3)
	if err := cc.Write(ctx, chars.Client2Server, full); err != nil {
		t.Fatalf("writing MTU−3 bytes: %v", err)
	}
	for i := range n {
		v, err := sc.NextWrite(ctx)
		if err != nil {
			t.Fatalf("next write %d: %v", i, err)
		}
		if v.Characteristic != chars.Client2Server || len(v.Value) != size || v.Value[0] != byte(i) || v.Value[size-1] != byte(i+size-1) {
			t.Fatalf("write %d arrived as %v %x", i, v.Characteristic, v.Value)
		}
	}
	if v, err := sc.NextWrite(ctx); err != nil || !bytes.Equal(v.Value, full) {
		t.Fatalf("MTU−3 write arrived as %d bytes, %v", len(v.Value), err)
	}

	// Notifications arrive in order.
	size = min(sc.MTU()-3, 20)
	buf = make([]byte, size)
	for i := range n {
		for j := range buf {
			buf[j] = byte(2*i + j)
		}
		if err := sc.Notify(ctx, chars.Server2Client, buf); err != nil {
			t.Fatalf("notify %d: %v", i, err)
		}
		clear(buf)
	}
	if err := sc.Notify(ctx, chars.State, []byte{0x02}); err != nil {
		t.Fatalf("notifying State: %v", err)
	}
	for i := range n {
		v, err := cc.NextNotification(ctx)
		if err != nil {
			t.Fatalf("next notification %d: %v", i, err)
		}
		if v.Characteristic != chars.Server2Client || len(v.Value) != size || v.Value[0] != byte(2*i) {
			t.Fatalf("notification %d arrived as %v %x", i, v.Characteristic, v.Value)
		}
	}
	if v, err := cc.NextNotification(ctx); err != nil || v.Characteristic != chars.State || !bytes.Equal(v.Value, []byte{2}) {
		t.Fatalf("State notification arrived as %v %x, %v", v.Characteristic, v.Value, err)
	}
	if err := sc.Notify(ctx, chars.Client2Server, []byte{1}); err == nil {
		t.Error("notifying a characteristic without the notify property succeeded")
	}

	// Waits end with their context.
	short, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	if _, err := sc.NextWrite(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("NextWrite past its deadline: %v", err)
	}
	if _, err := cc.NextNotification(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("NextNotification past its deadline: %v", err)
	}
	scancel()

	// Disconnection seen by both ends.
	if err := cc.Close(); err != nil {
		t.Errorf("closing the client: %v", err)
	}
	if err := cc.Close(); err != nil {
		t.Errorf("closing the client twice: %v", err)
	}
	select {
	case <-sc.Disconnected():
	case <-ctx.Done():
		t.Fatal("server did not see the disconnection")
	}
	select {
	case <-cc.Disconnected():
	default:
		t.Error("client Disconnected not closed after Close")
	}
	if _, err := sc.NextWrite(ctx); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("NextWrite after disconnection: %v", err)
	}
	if err := sc.Notify(ctx, chars.Server2Client, []byte{0}); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("Notify after disconnection: %v", err)
	}
	if err := cc.Write(ctx, chars.Client2Server, []byte{0}); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("Write after disconnection: %v", err)
	}
	if _, err := cc.NextNotification(ctx); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("NextNotification after disconnection: %v", err)
	}
	if err := sc.Close(); err != nil {
		t.Errorf("closing the server: %v", err)
	}
}
