package bluez

import (
	"context"
	"errors"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble"
)

func TestUUIDString(t *testing.T) {
	u := ble.ModeCentralClient.Characteristics().State
	s := uuidString(u)
	if s != "00000005-a123-48ce-896b-4c76973373e6" {
		t.Fatalf("uuidString = %s", s)
	}
	for _, in := range []string{s, "00000005-A123-48CE-896B-4C76973373E6"} {
		if got, ok := parseUUID(in); !ok || got != u {
			t.Errorf("parseUUID(%q) = %v, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "0000fff1-0000-1000-8000", "180f", "zzzzzzzz-a123-48ce-896b-4c76973373e6"} {
		if _, ok := parseUUID(bad); ok {
			t.Errorf("parseUUID(%q) accepted", bad)
		}
	}
}

func TestFlags(t *testing.T) {
	all := ble.PropRead | ble.PropWrite | ble.PropWriteWithoutResponse | ble.PropNotify
	for p := ble.Property(0); p <= all; p++ {
		if got := parseFlags(charFlags(p)); got != p {
			t.Errorf("round trip of %04b gave %04b", p, got)
		}
	}
	got := charFlags(ble.PropNotify | ble.PropWriteWithoutResponse)
	if len(got) != 2 || got[0] != "write-without-response" || got[1] != "notify" {
		t.Errorf("State flags = %q", got)
	}
	if p := parseFlags([]string{"indicate", "broadcast", "read", "encrypt-write"}); p != ble.PropRead {
		t.Errorf("unknown flags not ignored: %04b", p)
	}
	if w := writeType(ble.PropWriteWithoutResponse | ble.PropWrite); w != "command" {
		t.Errorf("writeType = %s, want command", w)
	}
	if w := writeType(ble.PropWrite); w != "request" {
		t.Errorf("writeType = %s, want request", w)
	}
}

func TestAddress(t *testing.T) {
	a, ok := parseAddress("C0:FF:EE:00:11:2A")
	if !ok || a != (ble.Address{0xc0, 0xff, 0xee, 0x00, 0x11, 0x2a}) {
		t.Fatalf("parseAddress = %v, %v", a, ok)
	}
	if p := devicePath("/org/bluez/hci0", a); p != "/org/bluez/hci0/dev_C0_FF_EE_00_11_2A" {
		t.Errorf("devicePath = %s", p)
	}
	for _, bad := range []string{"", "C0:FF:EE:00:11", "C0-FF-EE-00-11-2A", "C0:FF:EE:00:11:2G", "C0:FF:EE:00:11:2A:"} {
		if _, ok := parseAddress(bad); ok {
			t.Errorf("parseAddress(%q) accepted", bad)
		}
	}
	for name, want := range map[string]bool{"hci0": true, "hci12": true, "": false, "hci0/dev": false, "../x": false, "hci 0": false} {
		if validAdapterName(name) != want {
			t.Errorf("validAdapterName(%q) != %v", name, want)
		}
	}
}

func TestMTUOption(t *testing.T) {
	cases := []struct {
		opts map[string]dbus.Variant
		want int
	}{
		{nil, 0},
		{map[string]dbus.Variant{"mtu": dbus.MakeVariant(uint16(185))}, 185},
		{map[string]dbus.Variant{"mtu": dbus.MakeVariant(uint16(23))}, 23},
		{map[string]dbus.Variant{"mtu": dbus.MakeVariant(uint16(22))}, 0},
		{map[string]dbus.Variant{"mtu": dbus.MakeVariant(uint16(0))}, 0},
		{map[string]dbus.Variant{"mtu": dbus.MakeVariant(uint16(65535))}, 517},
		{map[string]dbus.Variant{"mtu": dbus.MakeVariant(int32(247))}, 247},
		{map[string]dbus.Variant{"mtu": dbus.MakeVariant("517")}, 0},
	}
	for _, c := range cases {
		if got := mtuOption(c.opts); got != c.want {
			t.Errorf("mtuOption(%v) = %d, want %d", c.opts, got, c.want)
		}
	}
	dev := dbus.ObjectPath("/org/bluez/hci0/dev_00_11_22_33_44_55")
	if got := deviceOption(map[string]dbus.Variant{"device": dbus.MakeVariant(dev)}); got != dev {
		t.Errorf("deviceOption = %q", got)
	}
	if got := deviceOption(map[string]dbus.Variant{"device": dbus.MakeVariant(string(dev))}); got != "" {
		t.Errorf("deviceOption of a string = %q", got)
	}
	if o := offsetOption(map[string]dbus.Variant{"offset": dbus.MakeVariant(uint16(7))}); o != 7 {
		t.Errorf("offsetOption = %d", o)
	}
}

func TestMTUDefaults(t *testing.T) {
	sc := &serverConn{connected: make(chan struct{})}
	cc := &clientConn{}
	if sc.MTU() != 23 || cc.MTU() != 23 {
		t.Errorf("MTU without a value = %d, %d; want 23", sc.MTU(), cc.MTU())
	}
	sc.bind(map[string]dbus.Variant{"mtu": dbus.MakeVariant(uint16(517))})
	if sc.MTU() != 515 {
		t.Errorf("MTU after a 517 option = %d, want 515 (multiNotifyOverhead)", sc.MTU())
	}
	sc.bind(map[string]dbus.Variant{"mtu": dbus.MakeVariant(uint16(24))})
	if sc.MTU() != 23 {
		t.Errorf("MTU after a 24 option = %d, want at least 23", sc.MTU())
	}
	if ble.MaxChunkSize(515) != 512 || ble.MaxChunkSize(185-multiNotifyOverhead) != 180 || ble.MaxChunkSize(ble.MinMTU) != 20 {
		t.Error("chunk sizes at the adapter's MTUs")
	}
}

func TestBind(t *testing.T) {
	sc := &serverConn{connected: make(chan struct{})}
	a := map[string]dbus.Variant{"device": dbus.MakeVariant(dbus.ObjectPath("/org/bluez/hci0/dev_A"))}
	b := map[string]dbus.Variant{"device": dbus.MakeVariant(dbus.ObjectPath("/org/bluez/hci0/dev_B"))}
	if !sc.bind(a) || !closed(sc.connected) {
		t.Fatal("first device not bound")
	}
	if sc.bind(b) {
		t.Error("second device accepted")
	}
	if !sc.bind(a) || !sc.bind(nil) {
		t.Error("bound device (or an unnamed one) refused")
	}
}

func TestWriteVerdict(t *testing.T) {
	ro := &servedChar{props: ble.PropRead}
	wo := &servedChar{props: ble.PropWriteWithoutResponse}
	if writeVerdict(ro, nil) == nil {
		t.Error("write to a read-only characteristic accepted")
	}
	if writeVerdict(wo, nil) != nil {
		t.Error("write refused")
	}
	if writeVerdict(wo, map[string]dbus.Variant{"offset": dbus.MakeVariant(uint16(3))}) == nil {
		t.Error("offset write accepted")
	}
}

func TestCheckService(t *testing.T) {
	u := ble.UUID{15: 1}
	bad := []ble.Service{
		{UUID: u},
		{UUID: u, Characteristics: []ble.CharacteristicSpec{{UUID: u, Properties: ble.PropRead}, {UUID: u, Properties: ble.PropRead}}},
		{UUID: u, Characteristics: []ble.CharacteristicSpec{{UUID: u}}},
		{UUID: u, Characteristics: []ble.CharacteristicSpec{{UUID: u, Properties: ble.PropRead, Value: make([]byte, 513)}}},
	}
	for i, s := range bad {
		if checkService(s) == nil {
			t.Errorf("bad service %d accepted", i)
		}
	}
}

func TestMapError(t *testing.T) {
	ctx := context.Background()
	notConn := dbus.Error{Name: "org.bluez.Error.NotConnected", Body: []any{"Not Connected"}}
	failedNC := dbus.Error{Name: "org.bluez.Error.Failed", Body: []any{"Not connected"}}
	failed := dbus.Error{Name: "org.bluez.Error.Failed", Body: []any{"Operation failed"}}
	unknownObj := &dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownObject"}
	for _, e := range []error{notConn, failedNC, unknownObj, dbus.ErrClosed} {
		if err := mapError(ctx, nil, "writing", e); !errors.Is(err, ble.ErrDisconnected) {
			t.Errorf("mapError(%v) = %v, want ErrDisconnected", e, err)
		}
	}
	if err := mapError(ctx, nil, "writing", failed); errors.Is(err, ble.ErrDisconnected) || err.Error() != "bluez: writing: Operation failed" {
		t.Errorf("mapError(Failed) = %v", err)
	}
	down := make(chan struct{})
	close(down)
	if err := mapError(ctx, down, "writing", failed); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("mapError with the link down = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := mapError(cctx, nil, "writing", context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("mapError with ctx done = %v", err)
	}
	if mapError(ctx, nil, "writing", nil) != nil {
		t.Error("mapError(nil) != nil")
	}
}

func TestValueQueue(t *testing.T) {
	q := newValueQueue()
	down := make(chan struct{})
	q.push(ble.CharValue{Value: []byte{1}})
	q.push(ble.CharValue{Value: []byte{2}})
	close(down)
	ctx := context.Background()
	for want := byte(1); want <= 2; want++ {
		v, err := q.pop(ctx, down, "test")
		if err != nil || v.Value[0] != want {
			t.Fatalf("pop = %v, %v; want %d (queued values come before the disconnection)", v, err, want)
		}
	}
	if _, err := q.pop(ctx, down, "test"); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("pop after drain = %v", err)
	}
	q = newValueQueue()
	for range maxQueued + 1 {
		q.push(ble.CharValue{})
	}
	if _, err := q.pop(ctx, nil, "test"); !errors.Is(err, ble.ErrProtocol) {
		t.Errorf("pop after overflow = %v", err)
	}
}
