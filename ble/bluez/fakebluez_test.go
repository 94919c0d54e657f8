package bluez

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/bletest"
	"github.com/idreader/idreader/ble/bluez/blueztest"
)

const (
	fakeAdapter = dbus.ObjectPath("/org/bluez/hci0")
	fakeDev     = dbus.ObjectPath("/org/bluez/hci0/dev_11_22_33_44_55_66")
	fakeMTU     = 185
)

// fakeBlueZ plays bluetoothd on a private bus with one adapter looped back
// on itself: the GATT application and advertisement registered through it
// appear as a remote device under the same adapter, and calls on the remote
// characteristics are forwarded to the application as bluetoothd would
// forward ATT requests (with "device" and "mtu" options).
type fakeBlueZ struct {
	t    *testing.T
	conn *dbus.Conn

	mu        sync.Mutex
	powered   bool
	appOwner  string
	appObjs   map[dbus.ObjectPath]map[string]map[string]dbus.Variant
	advUUIDs  []string
	connected bool
	scanning  bool
	// missScans is how many discovery sessions still miss the device, as
	// Linux does when the first report beats "discovering"; starts counts
	// StartDiscovery calls.
	missScans int
	hidden    bool
	starts    int
	toApp     map[dbus.ObjectPath]dbus.ObjectPath // remote char → app char
	toRemote  map[dbus.ObjectPath]dbus.ObjectPath
}

func startFake(t *testing.T, addr string) *fakeBlueZ {
	f := &fakeBlueZ{t: t, toApp: map[dbus.ObjectPath]dbus.ObjectPath{}, toRemote: map[dbus.ObjectPath]dbus.ObjectPath{}}
	conn, err := dbus.Dial(addr, dbus.WithIncomingInterceptor(f.intercept))
	if err == nil {
		if err = conn.Auth(nil); err == nil {
			err = conn.Hello()
		}
	}
	if err != nil {
		t.Fatalf("fake bluez: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	f.conn = conn
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(ifaceProperties), dbus.WithMatchPathNamespace("/org/idreader")); err != nil {
		t.Fatal(err)
	}
	conn.ExportMethodTable(map[string]any{
		"GetAll": func(iface string) (map[string]dbus.Variant, *dbus.Error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return map[string]dbus.Variant{"Address": dbus.MakeVariant("AA:BB:CC:DD:EE:FF"), "Powered": dbus.MakeVariant(f.powered)}, nil
		},
		"Set": func(iface, name string, v dbus.Variant) *dbus.Error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.powered, _ = v.Value().(bool)
			return nil
		},
	}, fakeAdapter, ifaceProperties)
	conn.ExportMethodTable(map[string]any{
		"SetDiscoveryFilter": func(map[string]dbus.Variant) *dbus.Error { return nil },
		"StopDiscovery": func() *dbus.Error {
			f.mu.Lock()
			f.scanning = false
			f.mu.Unlock()
			return nil
		},
		"StartDiscovery": func() *dbus.Error {
			f.mu.Lock()
			f.scanning = true
			f.starts++
			f.hidden = f.missScans > 0
			if f.hidden {
				f.missScans--
			}
			f.mu.Unlock()
			f.found()
			return nil
		},
	}, fakeAdapter, ifaceAdapter)
	conn.ExportMethodTable(map[string]any{
		"RegisterApplication":   f.registerApplication,
		"UnregisterApplication": func(dbus.ObjectPath) *dbus.Error { return nil },
	}, fakeAdapter, ifaceGattManager)
	conn.ExportMethodTable(map[string]any{
		"RegisterAdvertisement": func(sender dbus.Sender, p dbus.ObjectPath, _ map[string]dbus.Variant) *dbus.Error {
			props := map[string]dbus.Variant{}
			if err := conn.Object(string(sender), p).Call(ifaceProperties+".GetAll", 0, ifaceAdvertisment).Store(&props); err != nil {
				return dbus.MakeFailedError(err)
			}
			if typ, _ := props["Type"].Value().(string); typ != "peripheral" {
				return dbus.MakeFailedError(fmt.Errorf("advertisement type %q", typ))
			}
			f.mu.Lock()
			f.advUUIDs, _ = props["ServiceUUIDs"].Value().([]string)
			f.mu.Unlock()
			f.found()
			return nil
		},
		"UnregisterAdvertisement": func(dbus.ObjectPath) *dbus.Error { return nil },
	}, fakeAdapter, ifaceAdvManager)
	conn.ExportMethodTable(map[string]any{
		"GetManagedObjects": f.managedObjects,
	}, "/", ifaceObjManager)
	conn.ExportMethodTable(map[string]any{
		"Connect":    func() *dbus.Error { f.setConnected(true); return nil },
		"Disconnect": func() *dbus.Error { f.setConnected(false); return nil },
	}, fakeDev, ifaceDevice)
	conn.ExportMethodTable(map[string]any{
		"Get": func(iface, name string) (dbus.Variant, *dbus.Error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return dbus.MakeVariant(f.connected), nil
		},
		"GetAll": func(iface string) (map[string]dbus.Variant, *dbus.Error) { return f.deviceProps(), nil },
	}, fakeDev, ifaceProperties)

	reply, err := conn.RequestName(bluezService, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("fake bluez: owning %s: %v %v", bluezService, reply, err)
	}
	return f
}

// found reports the looped-back device, as bluetoothd does when discovery
// sees an advertisement.
func (f *fakeBlueZ) found() {
	f.mu.Lock()
	scanning := f.scanning
	f.mu.Unlock()
	if props := f.deviceProps(); props != nil && scanning {
		f.conn.Emit("/", ifaceObjManager+".InterfacesAdded", fakeDev, map[string]map[string]dbus.Variant{ifaceDevice: props})
	}
}

func (f *fakeBlueZ) deviceProps() map[string]dbus.Variant {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.advUUIDs == nil || f.hidden {
		return nil
	}
	return map[string]dbus.Variant{
		"Address":   dbus.MakeVariant("11:22:33:44:55:66"),
		"Adapter":   dbus.MakeVariant(fakeAdapter),
		"UUIDs":     dbus.MakeVariant(f.advUUIDs),
		"Connected": dbus.MakeVariant(f.connected),
	}
}

func (f *fakeBlueZ) setConnected(on bool) {
	f.mu.Lock()
	f.connected = on
	f.mu.Unlock()
	f.conn.Emit(fakeDev, ifaceProperties+".PropertiesChanged", ifaceDevice,
		map[string]dbus.Variant{"Connected": dbus.MakeVariant(on), "ServicesResolved": dbus.MakeVariant(on)}, []string{})
}

// registerApplication reads the application tree and exports it again as
// the remote device's GATT database.
func (f *fakeBlueZ) registerApplication(sender dbus.Sender, root dbus.ObjectPath, _ map[string]dbus.Variant) *dbus.Error {
	objs := map[dbus.ObjectPath]map[string]map[string]dbus.Variant{}
	if err := f.conn.Object(string(sender), root).Call(ifaceObjManager+".GetManagedObjects", 0).Store(&objs); err != nil {
		return dbus.MakeFailedError(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.appOwner, f.appObjs = string(sender), objs
	n := 0
	for p, ifaces := range objs {
		if _, ok := ifaces[ifaceGattChar]; !ok {
			continue
		}
		n++
		remote := fakeDev + dbus.ObjectPath(fmt.Sprintf("/service0010/char%04x", 0x10+n))
		f.toApp[remote], f.toRemote[p] = p, remote
		app := f.conn.Object(string(sender), p)
		opts := map[string]dbus.Variant{"device": dbus.MakeVariant(fakeDev), "mtu": dbus.MakeVariant(uint16(fakeMTU))}
		f.conn.ExportMethodTable(map[string]any{
			"ReadValue": func(map[string]dbus.Variant) ([]byte, *dbus.Error) {
				var v []byte
				if err := app.Call(ifaceGattChar+".ReadValue", 0, opts).Store(&v); err != nil {
					return nil, dbus.MakeFailedError(err)
				}
				return v, nil
			},
			// Forwarded in order by intercept; only answered here.
			"WriteValue":  func([]byte, map[string]dbus.Variant) *dbus.Error { return nil },
			"StartNotify": func() *dbus.Error { return asDBus(app.Call(ifaceGattChar+".StartNotify", 0).Err) },
			"StopNotify":  func() *dbus.Error { return asDBus(app.Call(ifaceGattChar+".StopNotify", 0).Err) },
		}, remote, ifaceGattChar)
	}
	return nil
}

func asDBus(err error) *dbus.Error {
	if err == nil {
		return nil
	}
	return dbus.MakeFailedError(err)
}

func (f *fakeBlueZ) managedObjects() (map[dbus.ObjectPath]map[string]map[string]dbus.Variant, *dbus.Error) {
	out := map[dbus.ObjectPath]map[string]map[string]dbus.Variant{
		fakeAdapter: {ifaceAdapter: {}},
	}
	dev := f.deviceProps()
	f.mu.Lock()
	defer f.mu.Unlock()
	if dev == nil {
		return out, nil
	}
	out[fakeDev] = map[string]map[string]dbus.Variant{ifaceDevice: dev}
	if !f.connected {
		return out, nil
	}
	svc := fakeDev + "/service0010"
	for _, ifaces := range f.appObjs {
		if s, ok := ifaces[ifaceGattService]; ok {
			out[svc] = map[string]map[string]dbus.Variant{ifaceGattService: {
				"UUID": s["UUID"], "Primary": dbus.MakeVariant(true), "Device": dbus.MakeVariant(fakeDev),
			}}
		}
	}
	for p, ifaces := range f.appObjs {
		if c, ok := ifaces[ifaceGattChar]; ok {
			out[f.toRemote[p]] = map[string]map[string]dbus.Variant{ifaceGattChar: {
				"UUID": c["UUID"], "Flags": c["Flags"], "Service": dbus.MakeVariant(svc),
				"MTU": dbus.MakeVariant(uint16(fakeMTU)),
			}}
		}
	}
	return out, nil
}

// intercept forwards, in arrival order, client writes to the application
// and application notifications to the client.
func (f *fakeBlueZ) intercept(msg *dbus.Message) {
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	f.mu.Lock()
	app, isRemote := f.toApp[path]
	remote, isApp := f.toRemote[path]
	owner := f.appOwner
	f.mu.Unlock()
	switch {
	case msg.Type == dbus.TypeMethodCall && isRemote && member == "WriteValue" && len(msg.Body) == 2:
		opts := map[string]dbus.Variant{"device": dbus.MakeVariant(fakeDev), "mtu": dbus.MakeVariant(uint16(fakeMTU))}
		f.conn.Object(owner, app).Go(ifaceGattChar+".WriteValue", 0, nil, msg.Body[0], opts)
	case msg.Type == dbus.TypeSignal && isApp && member == "PropertiesChanged" && len(msg.Body) == 3:
		if changed, ok := msg.Body[1].(map[string]dbus.Variant); ok {
			if _, ok := changed["Value"]; ok {
				f.conn.Emit(remote, ifaceProperties+".PropertiesChanged", ifaceGattChar, changed, []string{})
			}
		}
	}
}

// TestFakeBlueZConformance runs the shared GATT conformance checks over the
// adapter's real D-Bus code against the fake bluetoothd above. It exercises
// this package's D-Bus side (object export, registration, discovery,
// forwarding, signals, ordering); it says nothing about bluetoothd itself.
func TestFakeBlueZConformance(t *testing.T) {
	addr := blueztest.StartBus(t)
	f := startFake(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Open(ctx, Options{BusAddress: addr})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer a.Close()
	f.mu.Lock()
	powered := f.powered
	f.mu.Unlock()
	if !powered {
		t.Error("Open did not power the adapter on")
	}
	if a.Address() != (ble.Address{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}) {
		t.Errorf("Address = %v", a.Address())
	}
	bletest.RunConformance(t, a.Peripheral(), a.Central())
}

func TestFakeBlueZOpenErrors(t *testing.T) {
	addr := blueztest.StartBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Open(ctx, Options{BusAddress: addr}); !errors.Is(err, ErrNoBlueZ) {
		t.Errorf("Open without bluetoothd = %v", err)
	}
	startFake(t, addr)
	if _, err := Open(ctx, Options{BusAddress: addr, Adapter: "hci9"}); !errors.Is(err, ErrNoAdapter) {
		t.Errorf("Open of a missing adapter = %v", err)
	}
}

// TestFakeBlueZBusLoss checks that connections report ErrDisconnected when
// the adapter's bus connection closes.
func TestFakeBlueZBusLoss(t *testing.T) {
	addr := blueztest.StartBus(t)
	startFake(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Open(ctx, Options{BusAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := a.Peripheral().Accept(actx, ble.Service{UUID: ble.UUID{15: 9}, Characteristics: []ble.CharacteristicSpec{{UUID: ble.UUID{15: 10}, Properties: ble.PropRead}}})
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	a.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ble.ErrDisconnected) {
			t.Errorf("Accept after bus loss = %v", err)
		}
	case <-ctx.Done():
		t.Error("Accept did not return after bus loss")
	}
	acancel()
	if _, err := a.Central().Scan(ctx, ble.ScanFilter{}); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("Scan after Close = %v", err)
	}
}

// TestScanRestartsDiscovery: a device that the first discovery sessions miss
// (bluetoothd never lists it) is found once Scan restarts discovery.
func TestScanRestartsDiscovery(t *testing.T) {
	defer func(d time.Duration) { scanRestartInterval = d }(scanRestartInterval)
	scanRestartInterval = 20 * time.Millisecond
	addr := blueztest.StartBus(t)
	f := startFake(t, addr)
	f.mu.Lock()
	f.missScans = 2
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Open(ctx, Options{BusAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	svc := ble.UUID{15: 7}
	actx, acancel := context.WithCancel(ctx)
	defer acancel()
	go a.Peripheral().Accept(actx, ble.Service{UUID: svc, Characteristics: []ble.CharacteristicSpec{{UUID: ble.UUID{15: 8}, Properties: ble.PropRead}}})
	for {
		f.mu.Lock()
		advertised := f.advUUIDs != nil
		f.mu.Unlock()
		if advertised {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the advertisement was never registered")
		}
		time.Sleep(time.Millisecond)
	}
	adv, err := a.Central().Scan(ctx, ble.ScanFilter{Service: svc})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if adv.Address != (ble.Address{0x11, 0x22, 0x33, 0x44, 0x55, 0x66}) {
		t.Errorf("found %v", adv.Address)
	}
	f.mu.Lock()
	starts := f.starts
	f.mu.Unlock()
	if starts != 3 {
		t.Errorf("StartDiscovery called %d times, want 3 (two missed sessions, then the one that finds it)", starts)
	}
}
