package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/rs/zerolog"

	"github.com/idreader/idreader/ble/bluez/blueztest"
	"github.com/idreader/idreader/daemon"
)

// miniBlueZ plays the part of bluetoothd that Open and the loss detection
// need: org.bluez owning /org/bluez/hci0 with Address and Powered, on a
// private bus.
type miniBlueZ struct {
	conn    *dbus.Conn
	mu      sync.Mutex
	present bool
	powered bool
}

func startMiniBlueZ(t *testing.T) (*miniBlueZ, string) {
	t.Helper()
	addr := blueztest.StartBus(t)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m := &miniBlueZ{conn: conn, present: true, powered: true}
	conn.ExportMethodTable(map[string]any{
		"GetAll": func(iface string) (map[string]dbus.Variant, *dbus.Error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			if !m.present {
				return nil, dbus.NewError("org.freedesktop.DBus.Error.UnknownObject", []any{"no adapter"})
			}
			return map[string]dbus.Variant{"Address": dbus.MakeVariant("AA:BB:CC:DD:EE:FF"), "Powered": dbus.MakeVariant(m.powered)}, nil
		},
		"Set": func(iface, name string, v dbus.Variant) *dbus.Error {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.powered, _ = v.Value().(bool)
			return nil
		},
	}, "/org/bluez/hci0", "org.freedesktop.DBus.Properties")
	if reply, err := conn.RequestName("org.bluez", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning org.bluez: %v %v", reply, err)
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	return m, addr
}

func (m *miniBlueZ) powerOff(t *testing.T) {
	m.mu.Lock()
	m.powered = false
	m.mu.Unlock()
	err := m.conn.Emit("/org/bluez/hci0", "org.freedesktop.DBus.Properties.PropertiesChanged", "org.bluez.Adapter1",
		map[string]dbus.Variant{"Powered": dbus.MakeVariant(false)}, []string{})
	if err != nil {
		t.Fatal(err)
	}
}

func (m *miniBlueZ) remove(t *testing.T) {
	m.mu.Lock()
	m.present = false
	m.mu.Unlock()
	err := m.conn.Emit("/", "org.freedesktop.DBus.ObjectManager.InterfacesRemoved", dbus.ObjectPath("/org/bluez/hci0"), []string{"org.bluez.Adapter1"})
	if err != nil {
		t.Fatal(err)
	}
}

func (m *miniBlueZ) restore() {
	m.mu.Lock()
	m.present = true
	m.mu.Unlock()
}

// TestRadioLostAndBack: a radio whose adapter is powered off or removed
// reports why at once (state, the API's ReaderStatus.BLE, a qr reader down),
// a tap then gets the error instead of a dead adapter, and the watcher opens
// the adapter again (powering it) once it answers.
func TestRadioLostAndBack(t *testing.T) {
	m, _ := startMiniBlueZ(t)
	r := newRadio("hci0")
	defer r.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := r.get(ctx, 0); err != nil {
		t.Fatal(err)
	}
	logBuf := &syncBuffer{}
	watched := make(chan struct{})
	go func() {
		r.watch(ctx, zerolog.New(logBuf))
		close(watched)
	}()
	defer func() { cancel(); <-watched }()
	svc := radioService{Service: fixedReaders{{Name: "kiosk", Up: true, BLE: "ok"}, {Name: "counter", Up: true}},
		radios: map[string]*radio{"kiosk": r}, qr: map[string]bool{"kiosk": true}}
	if st := r.state(); st != "ok" {
		t.Fatalf("state %q before any loss", st)
	}

	for _, c := range []struct {
		name string
		lose func(*testing.T)
		why  string
	}{
		{"power off", m.powerOff, "powered off"},
		{"removal", m.remove, "removed"},
	} {
		c.lose(t)
		waitFor(t, "the radio lost after "+c.name, func() bool { return strings.Contains(r.state(), c.why) })
		rs := svc.Readers()
		if rs[0].Up || !strings.Contains(rs[0].BLE, "hci0") || !rs[1].Up || rs[1].BLE != "" {
			t.Errorf("readers after %s: %+v", c.name, rs)
		}
		if _, err := r.get(ctx, 0); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("get after %s = %v", c.name, err)
		}
		m.restore()
		waitFor(t, "the radio back after "+c.name, func() bool { return r.state() == "ok" })
		if rs := svc.Readers(); !rs[0].Up || rs[0].BLE != "ok" {
			t.Errorf("readers after the adapter came back: %+v", rs)
		}
	}
	if !strings.Contains(logBuf.String(), "bluetooth LE adapter lost") || !strings.Contains(logBuf.String(), "bluetooth LE adapter ready") {
		t.Errorf("log: %s", logBuf.String())
	}
}

// fixedReaders is a daemon.Service reporting fixed reader states.
type fixedReaders []daemon.ReaderStatus

func (f fixedReaders) Check(context.Context, daemon.CheckRequest) (*daemon.CheckResult, error) {
	return nil, daemon.ErrCancelled
}
func (f fixedReaders) LastResult() (*daemon.CheckResult, bool) { return nil, false }
func (f fixedReaders) CancelCurrent() bool                     { return false }
func (f fixedReaders) Subscribe(int) (<-chan daemon.Event, func()) {
	return make(chan daemon.Event), func() {}
}
func (f fixedReaders) Readers() []daemon.ReaderStatus {
	return append([]daemon.ReaderStatus(nil), f...)
}
