//go:build blerig

package blerig

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
)

// TestRawGATT checks the GATT layer of ble/bluez through BlueZ without
// 18013-5 on top: a server on hci0, a client on hci1, full-size write
// commands and notifications with numbered payloads must arrive whole and
// in order.
func TestRawGATT(t *testing.T) {
	requireRig(t)
	resetRadios(t)
	srv, cli := openAdapter(t, "hci0"), openAdapter(t, "hci1")
	svc := ble.UUID{0: 0x12, 15: 0x01}
	w, n := ble.UUID{0: 0x12, 15: 0x02}, ble.UUID{0: 0x12, 15: 0x03}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	accepted := make(chan ble.ServerConn, 1)
	errs := make(chan error, 1)
	go func() {
		sc, err := srv.Peripheral().Accept(ctx, ble.Service{UUID: svc, Characteristics: []ble.CharacteristicSpec{
			{UUID: w, Properties: ble.PropWriteWithoutResponse},
			{UUID: n, Properties: ble.PropNotify},
			{UUID: ble.UUID{0: 0x12, 15: 0x04}, Properties: ble.PropRead, Value: []byte("ident")},
		}})
		if err != nil {
			errs <- err
			return
		}
		accepted <- sc
	}()
	adv, err := cli.Central().Scan(ctx, ble.ScanFilter{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cli.Central().Connect(ctx, adv)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.Discover(ctx, svc, []ble.UUID{w, n}); err != nil {
		t.Fatal(err)
	}
	if err := cc.Subscribe(ctx, n); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Read(ctx, ble.UUID{0: 0x12, 15: 0x04}); err != nil {
		t.Fatal(err)
	}
	var sc ble.ServerConn
	select {
	case sc = <-accepted:
	case err := <-errs:
		t.Fatal(err)
	}
	defer sc.Close()
	t.Logf("MTU client %d, server %d", cc.MTU(), sc.MTU())
	size := min(cc.MTU()-3, 512)
	payload := func(i int) []byte {
		b := bytes.Repeat([]byte{byte(i)}, size)
		copy(b, fmt.Sprintf("chunk %03d", i))
		return b
	}
	const count = 20
	go func() {
		for i := range count {
			if err := cc.Write(ctx, w, payload(i)); err != nil {
				t.Errorf("write %d: %v", i, err)
				return
			}
		}
	}()
	for i := range count {
		v, err := sc.NextWrite(ctx)
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if !bytes.Equal(v.Value, payload(i)) {
			t.Errorf("write %d: got %d bytes %q..., want %d bytes %q...", i, len(v.Value), v.Value[:min(12, len(v.Value))], size, payload(i)[:12])
		}
	}
	nsize := min(sc.MTU()-3, 512)
	for i := range count {
		b := bytes.Repeat([]byte{byte(i)}, nsize)
		copy(b, fmt.Sprintf("notif %03d", i))
		if err := sc.Notify(ctx, n, b); err != nil {
			t.Fatalf("notify %d: %v", i, err)
		}
		v, err := cc.NextNotification(ctx)
		if err != nil {
			t.Fatalf("notification %d: %v", i, err)
		}
		if !bytes.Equal(v.Value, b) {
			t.Errorf("notification %d: got %d bytes %q..., want %d bytes %q...", i, len(v.Value), v.Value[:min(12, len(v.Value))], nsize, b[:12])
		}
	}
}
