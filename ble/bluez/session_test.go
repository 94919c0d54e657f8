package bluez

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/bletest"
	"github.com/idreader/idreader/ble/bluez/blueztest"
)

// TestFakeBlueZSession runs an 18013-5 BLE session (mdoc central client
// mode: Serve on the peripheral, Dial on the central) through the adapter and
// the fake bluetoothd, with a 30 KB message each way at the fake's MTU.
func TestFakeBlueZSession(t *testing.T) {
	addr := blueztest.StartBus(t)
	startFake(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := Open(ctx, Options{BusAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cfg := ble.Config{
		Mode:    ble.ModeCentralClient,
		Service: ble.UUID{0x3a, 0x82, 0xd4, 0x55, 0xd5, 0xfc, 0x4d, 0xb3, 0xbe, 0xa0, 0x6f, 0xd2, 0xf6, 0xff, 0x32, 0xc8},
		Ident:   bytes.Repeat([]byte{0x1d}, ble.IdentSize),
	}
	type res struct {
		c   *ble.Conn
		err error
	}
	sch := make(chan res, 1)
	go func() {
		c, err := ble.Serve(ctx, a.Peripheral(), cfg)
		sch <- res{c, err}
	}()
	wallet, err := ble.Dial(ctx, a.Central(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	s := <-sch
	if s.err != nil {
		t.Fatalf("Serve: %v", s.err)
	}
	reader := s.c
	// The GATT server chunks for MTU−2 (multiNotifyOverhead).
	if reader.MTU() != fakeMTU-multiNotifyOverhead || wallet.MTU() != fakeMTU {
		t.Errorf("MTU reader %d wallet %d, want %d and %d", reader.MTU(), wallet.MTU(), fakeMTU-multiNotifyOverhead, fakeMTU)
	}
	req := bytes.Repeat([]byte("request."), 30<<10/8)
	resp := bytes.Repeat([]byte("response"), 30<<10/8)
	errc := make(chan error, 1)
	go func() { errc <- reader.Send(ctx, req) }()
	got, err := wallet.Receive(ctx)
	if err != nil || !bytes.Equal(got, req) {
		t.Fatalf("wallet received %d bytes, %v", len(got), err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("reader Send: %v", err)
	}
	go func() { errc <- wallet.Send(ctx, resp) }()
	got, err = reader.Receive(ctx)
	if err != nil || !bytes.Equal(got, resp) {
		t.Fatalf("reader received %d bytes, %v", len(got), err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("wallet Send: %v", err)
	}
	if err := reader.Close(ctx); err != nil {
		t.Errorf("reader Close: %v", err)
	}
	wallet.Close(ctx)
}

// TestHardwareConformance runs the conformance checks on real Bluetooth
// controllers. It needs IDREADER_BLE_HW=1, a running bluetoothd and two
// adapters, one per role: IDREADER_BLE_PERIPHERAL (default hci0) and
// IDREADER_BLE_CENTRAL (default hci1), within radio range of each other.
func TestHardwareConformance(t *testing.T) {
	if os.Getenv("IDREADER_BLE_HW") != "1" {
		t.Skip("set IDREADER_BLE_HW=1 (and IDREADER_BLE_PERIPHERAL / IDREADER_BLE_CENTRAL) to run on Bluetooth hardware")
	}
	name := func(env, def string) string {
		if v := os.Getenv(env); v != "" {
			return v
		}
		return def
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Open(ctx, Options{Adapter: name("IDREADER_BLE_PERIPHERAL", "hci0")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := Open(ctx, Options{Adapter: name("IDREADER_BLE_CENTRAL", "hci1")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bletest.RunConformance(t, p.Peripheral(), c.Central())
}
