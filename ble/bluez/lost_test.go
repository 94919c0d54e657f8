package bluez

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble/bluez/blueztest"
)

// openFake opens hci0 on a fresh fake bluetoothd.
func openFake(t *testing.T) (*fakeBlueZ, *Adapter) {
	t.Helper()
	addr := blueztest.StartBus(t)
	f := startFake(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Open(ctx, Options{BusAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return f, a
}

// notLost checks that the adapter is not reported lost within a short wait.
func notLost(t *testing.T, a *Adapter) {
	t.Helper()
	select {
	case <-a.Lost():
		t.Fatalf("adapter reported lost: %v", a.LostErr())
	case <-time.After(200 * time.Millisecond):
	}
	if a.LostErr() != nil {
		t.Fatalf("LostErr = %v before any loss", a.LostErr())
	}
}

// lostWith waits for Lost and checks the reason.
func lostWith(t *testing.T, a *Adapter, why string) {
	t.Helper()
	select {
	case <-a.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("adapter loss not reported")
	}
	err := a.LostErr()
	if !errors.Is(err, ErrAdapterLost) || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "hci0") {
		t.Fatalf("LostErr = %v; want ErrAdapterLost for hci0 saying %q", err, why)
	}
}

func TestAdapterLostPoweredOff(t *testing.T) {
	f, a := openFake(t)
	emit := func(path dbus.ObjectPath, iface string, on bool) {
		err := f.conn.Emit(path, ifaceProperties+".PropertiesChanged", iface,
			map[string]dbus.Variant{"Powered": dbus.MakeVariant(on)}, []string{})
		if err != nil {
			t.Fatal(err)
		}
	}
	emit(fakeAdapter, ifaceAdapter, true)              // powered on: not a loss
	emit("/org/bluez/hci1", ifaceAdapter, false)       // another adapter
	emit(fakeAdapter, "org.bluez.NotAnAdapter", false) // another interface
	notLost(t, a)
	emit(fakeAdapter, ifaceAdapter, false)
	lostWith(t, a, "powered off")
}

func TestAdapterLostRemoved(t *testing.T) {
	f, a := openFake(t)
	remove := func(path dbus.ObjectPath, ifaces ...string) {
		if err := f.conn.Emit("/", ifaceObjManager+".InterfacesRemoved", path, ifaces); err != nil {
			t.Fatal(err)
		}
	}
	remove(fakeDev, ifaceDevice)            // a device under it
	remove(fakeAdapter, ifaceGattManager)   // not the adapter interface
	remove("/org/bluez/hci1", ifaceAdapter) // another adapter
	notLost(t, a)
	remove(fakeAdapter, ifaceAdapter, ifaceGattManager)
	lostWith(t, a, "removed")
}

func TestAdapterLostBlueZGone(t *testing.T) {
	f, a := openFake(t)
	notLost(t, a)
	f.conn.Close() // bluetoothd leaves the bus
	lostWith(t, a, "bluetoothd left")
}

func TestAdapterLostClosed(t *testing.T) {
	_, a := openFake(t)
	a.Close()
	lostWith(t, a, "D-Bus connection closed")
}
