package bluez

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble"
)

// central is the GATT-client role of an Adapter.
type central struct{ a *Adapter }

// managedObjects fetches bluetoothd's object tree.
func (a *Adapter) managedObjects(ctx context.Context) (map[dbus.ObjectPath]map[string]map[string]dbus.Variant, error) {
	objs := map[dbus.ObjectPath]map[string]map[string]dbus.Variant{}
	err := a.conn.Object(bluezService, "/").CallWithContext(ctx, ifaceObjManager+".GetManagedObjects", 0).Store(&objs)
	return objs, err
}

// matchDevice reports the advertisement of a Device1 object when it is under
// this adapter and matches f.
func (a *Adapter) matchDevice(path dbus.ObjectPath, props map[string]dbus.Variant, f ble.ScanFilter) (ble.Advertisement, bool) {
	if adp, _ := props["Adapter"].Value().(dbus.ObjectPath); adp != "" && adp != a.path {
		return ble.Advertisement{}, false
	}
	s, _ := props["Address"].Value().(string)
	addr, ok := parseAddress(s)
	if !ok || devicePath(a.path, addr) != path {
		return ble.Advertisement{}, false
	}
	if f.Address != nil && *f.Address != addr {
		return ble.Advertisement{}, false
	}
	uuids, _ := props["UUIDs"].Value().([]string)
	adv := ble.Advertisement{Address: addr}
	found := false
	for _, us := range uuids {
		if u, ok := parseUUID(us); ok {
			adv.Services = append(adv.Services, u)
			found = found || u == f.Service
		}
	}
	return adv, found
}

// scanRestartInterval is how long a scan runs without a match before
// Scan restarts discovery. Linux drops an advertising report that arrives
// between the controller's scan enable and the kernel marking discovery
// active, and the controller's duplicate filter then hides that advertiser
// until scanning is enabled again, which the kernel does on its own only
// after about 10 s (seen in the BlueZ rig: the wallet's first report came
// 1 ms before "discovering", and the reader found it 10.3 s later). A
// restart re-enables scanning, which clears the duplicate filter. Under the
// rig's emulated controllers, which report an advertiser the instant
// scanning is enabled, about one start in two loses that race, so restarts
// come every second.
var scanRestartInterval = time.Second

// Scan implements ble.Central: it sets a discovery filter (LE transport,
// the service UUID), starts discovery, and returns the first Device1 under
// the adapter whose UUIDs list the service (and whose address matches, when
// the filter has one), including devices bluetoothd already knows. Without
// a match for scanRestartInterval it stops and starts discovery again.
// Discovery is stopped and the filter cleared on return.
func (c central) Scan(ctx context.Context, f ble.ScanFilter) (ble.Advertisement, error) {
	a := c.a
	if closed(a.gone) {
		return ble.Advertisement{}, fmt.Errorf("bluez: scanning: %w", ble.ErrDisconnected)
	}
	// Candidates from signals, in arrival order; the interceptor must not
	// block, so a full channel drops (later property changes repeat them).
	cand := make(chan dbus.ObjectPath, 256)
	found := make(chan ble.Advertisement, 1)
	cancel := a.subscribe(func(msg *dbus.Message) {
		if p, ifaces, ok := interfacesAdded(msg); ok {
			if props, ok := ifaces[ifaceDevice]; ok {
				if adv, ok := a.matchDevice(p, props, f); ok {
					select {
					case found <- adv:
					default:
					}
				}
			}
			return
		}
		if p, changed, ok := propertiesChanged(msg, ifaceDevice); ok {
			_, uuids := changed["UUIDs"]
			_, rssi := changed["RSSI"]
			if uuids || rssi {
				select {
				case cand <- p:
				default:
				}
			}
		}
	})
	defer cancel()

	a.dropStaleDevices(ctx)
	adapter := a.conn.Object(bluezService, a.path)
	filter := map[string]dbus.Variant{
		"UUIDs":     dbus.MakeVariant([]string{uuidString(f.Service)}),
		"Transport": dbus.MakeVariant("le"),
	}
	if err := adapter.CallWithContext(ctx, ifaceAdapter+".SetDiscoveryFilter", 0, filter).Err; err != nil {
		return ble.Advertisement{}, mapError(ctx, a.gone, "setting discovery filter", err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer ccancel()
		adapter.CallWithContext(cctx, ifaceAdapter+".StopDiscovery", 0)
		adapter.CallWithContext(cctx, ifaceAdapter+".SetDiscoveryFilter", 0, map[string]dbus.Variant{})
	}()
	if err := adapter.CallWithContext(ctx, ifaceAdapter+".StartDiscovery", 0).Err; err != nil {
		return ble.Advertisement{}, mapError(ctx, a.gone, "starting discovery", err)
	}

	if adv, ok, err := a.knownDevice(ctx, f); err != nil || ok {
		return adv, err
	}
	restart := time.NewTicker(scanRestartInterval)
	defer restart.Stop()
	for {
		select {
		case adv := <-found:
			return adv, nil
		case <-restart.C:
			adapter.CallWithContext(ctx, ifaceAdapter+".StopDiscovery", 0)
			if err := adapter.CallWithContext(ctx, ifaceAdapter+".StartDiscovery", 0).Err; err != nil {
				return ble.Advertisement{}, mapError(ctx, a.gone, "restarting discovery", err)
			}
			if adv, ok, err := a.knownDevice(ctx, f); err != nil || ok {
				return adv, err
			}
		case p := <-cand:
			props := map[string]dbus.Variant{}
			err := a.conn.Object(bluezService, p).CallWithContext(ctx, ifaceProperties+".GetAll", 0, ifaceDevice).Store(&props)
			if err != nil {
				if ctx.Err() != nil {
					return ble.Advertisement{}, fmt.Errorf("bluez: scanning for %v: %w", f.Service, ctx.Err())
				}
				continue // the device went away meanwhile
			}
			if adv, ok := a.matchDevice(p, props, f); ok {
				return adv, nil
			}
		case <-a.gone:
			return ble.Advertisement{}, fmt.Errorf("bluez: scanning for %v: %w", f.Service, ble.ErrDisconnected)
		case <-ctx.Done():
			return ble.Advertisement{}, fmt.Errorf("bluez: scanning for %v: %w", f.Service, ctx.Err())
		}
	}
}

// knownDevice reports the first Device1 bluetoothd already lists that
// matches f.
func (a *Adapter) knownDevice(ctx context.Context, f ble.ScanFilter) (ble.Advertisement, bool, error) {
	objs, err := a.managedObjects(ctx)
	if err != nil {
		return ble.Advertisement{}, false, mapError(ctx, a.gone, "listing devices", err)
	}
	for p, ifaces := range objs {
		if props, ok := ifaces[ifaceDevice]; ok {
			if adv, ok := a.matchDevice(p, props, f); ok {
				return adv, true, nil
			}
		}
	}
	return ble.Advertisement{}, false, nil
}

// remoteChar is one discovered characteristic of the peer.
type remoteChar struct {
	path  dbus.ObjectPath
	props ble.Property
}

// clientConn is one connection to a remote GATT server.
type clientConn struct {
	a      *Adapter
	dev    dbus.ObjectPath
	notifs *valueQueue

	mu         sync.Mutex
	chars      map[ble.UUID]remoteChar
	byPath     map[dbus.ObjectPath]ble.UUID
	subscribed map[ble.UUID]bool
	mtu        int
	acquired   map[ble.UUID]*os.File // AcquireNotify sockets (notifyfd.go)

	down       chan struct{}
	downOnce   sync.Once
	stopWatch  func()
	stopNotifs func()
	closeOnce  sync.Once
}

// Connect implements ble.Central: Device1.Connect, then it waits for
// "ServicesResolved". bluetoothd exchanges the ATT MTU itself on LE
// connections (up to 517 by default); the result shows in
// GattCharacteristic1 "MTU" after Discover.
func (c central) Connect(ctx context.Context, adv ble.Advertisement) (ble.ClientConn, error) {
	a := c.a
	if closed(a.gone) {
		return nil, fmt.Errorf("bluez: connecting: %w", ble.ErrDisconnected)
	}
	cc := &clientConn{
		a:          a,
		dev:        devicePath(a.path, adv.Address),
		notifs:     newValueQueue(),
		chars:      map[ble.UUID]remoteChar{},
		byPath:     map[dbus.ObjectPath]ble.UUID{},
		subscribed: map[ble.UUID]bool{},
		down:       make(chan struct{}),
	}
	resolved := make(chan struct{})
	var resolvedOnce sync.Once
	connected := false
	var connMu sync.Mutex
	cc.stopWatch = a.watchDevice(func() dbus.ObjectPath {
		connMu.Lock()
		defer connMu.Unlock()
		if !connected {
			return "" // a Connected=false before Connect returns is not a disconnection yet
		}
		return cc.dev
	}, cc.markDown)
	cc.stopNotifs = a.subscribe(func(msg *dbus.Message) { cc.onSignal(msg, resolved, &resolvedOnce) })

	fail := func(err error) (ble.ClientConn, error) {
		cc.Close()
		return nil, err
	}
	dev := a.conn.Object(bluezService, cc.dev)
	if err := dev.CallWithContext(ctx, ifaceDevice+".Connect", 0).Err; err != nil {
		var de dbus.Error
		if !(asDBusError(err, &de) && de.Name == "org.bluez.Error.AlreadyConnected") {
			return fail(mapError(ctx, a.gone, "connecting to "+adv.Address.String(), err))
		}
	}
	connMu.Lock()
	connected = true
	connMu.Unlock()

	var sr dbus.Variant
	err := dev.CallWithContext(ctx, ifaceProperties+".Get", 0, ifaceDevice, "ServicesResolved").Store(&sr)
	if err != nil {
		return fail(mapError(ctx, cc.down, "reading ServicesResolved", err))
	}
	if v, _ := sr.Value().(bool); v {
		return cc, nil
	}
	select {
	case <-resolved:
		return cc, nil
	case <-cc.down:
		return fail(fmt.Errorf("bluez: resolving services: %w", ble.ErrDisconnected))
	case <-ctx.Done():
		return fail(fmt.Errorf("bluez: resolving services: %w", ctx.Err()))
	}
}

func asDBusError(err error, de *dbus.Error) bool {
	if err == nil {
		return false
	}
	if e, ok := err.(dbus.Error); ok {
		*de = e
		return true
	}
	if e, ok := err.(*dbus.Error); ok && e != nil {
		*de = *e
		return true
	}
	return false
}

// onSignal handles, in arrival order, the signals of this device: services
// resolved, notifications (PropertiesChanged "Value" on a subscribed
// characteristic) and MTU changes.
func (cc *clientConn) onSignal(msg *dbus.Message, resolved chan struct{}, once *sync.Once) {
	if p, changed, ok := propertiesChanged(msg, ifaceDevice); ok && p == cc.dev {
		if v, ok := changed["ServicesResolved"]; ok {
			if r, _ := v.Value().(bool); r {
				once.Do(func() { close(resolved) })
			}
		}
		return
	}
	p, changed, ok := propertiesChanged(msg, ifaceGattChar)
	if !ok || len(p) <= len(cc.dev) || p[:len(cc.dev)+1] != cc.dev+"/" {
		return
	}
	cc.mu.Lock()
	u, known := cc.byPath[p]
	sub := known && cc.subscribed[u]
	if v, ok := changed["MTU"]; ok && known {
		if m := clampMTU(v.Value()); m != 0 {
			cc.mtu = m
		}
	}
	cc.mu.Unlock()
	if v, ok := changed["Value"]; ok && sub {
		if b, ok := v.Value().([]byte); ok {
			cc.notifs.push(ble.CharValue{Characteristic: u, Value: copyBytes(b)})
		}
	}
}

func (cc *clientConn) markDown() {
	cc.downOnce.Do(func() { close(cc.down) })
}

// Discover implements ble.ClientConn from bluetoothd's object tree: the
// GattService1 with the UUID under the device, and its GattCharacteristic1
// objects.
func (cc *clientConn) Discover(ctx context.Context, service ble.UUID, chars []ble.UUID) error {
	op := "discovering " + service.String()
	if closed(cc.down) {
		return fmt.Errorf("bluez: %s: %w", op, ble.ErrDisconnected)
	}
	objs, err := cc.a.managedObjects(ctx)
	if err != nil {
		return mapError(ctx, cc.down, op, err)
	}
	svcPath, found := findService(objs, cc.dev, service)
	if !found {
		return fmt.Errorf("bluez: %s: service %w", op, ble.ErrNotFound)
	}
	got, mtu := findChars(objs, svcPath)
	for _, u := range chars {
		if _, ok := got[u]; !ok {
			return fmt.Errorf("bluez: %s: characteristic %v %w", op, u, ble.ErrNotFound)
		}
	}
	cc.mu.Lock()
	for u, rc := range got {
		cc.chars[u] = rc
		cc.byPath[rc.path] = u
	}
	if mtu != 0 {
		cc.mtu = mtu
	}
	cc.mu.Unlock()
	return nil
}

// findService returns the path of the primary service with UUID u of the
// device at dev.
func findService(objs map[dbus.ObjectPath]map[string]map[string]dbus.Variant, dev dbus.ObjectPath, u ble.UUID) (dbus.ObjectPath, bool) {
	paths := make([]dbus.ObjectPath, 0, len(objs))
	for p := range objs {
		paths = append(paths, p)
	}
	slices.Sort(paths) // deterministic when a device lists a service twice
	for _, p := range paths {
		props, ok := objs[p][ifaceGattService]
		if !ok {
			continue
		}
		if d, _ := props["Device"].Value().(dbus.ObjectPath); d != dev {
			continue
		}
		if s, _ := props["UUID"].Value().(string); s != "" {
			if su, ok := parseUUID(s); ok && su == u {
				return p, true
			}
		}
	}
	return "", false
}

// findChars returns the characteristics of the service at svc, by UUID, and
// the largest "MTU" they report (0 when none does).
func findChars(objs map[dbus.ObjectPath]map[string]map[string]dbus.Variant, svc dbus.ObjectPath) (map[ble.UUID]remoteChar, int) {
	got := map[ble.UUID]remoteChar{}
	mtu := 0
	for p, ifaces := range objs {
		props, ok := ifaces[ifaceGattChar]
		if !ok {
			continue
		}
		if s, _ := props["Service"].Value().(dbus.ObjectPath); s != svc {
			continue
		}
		us, _ := props["UUID"].Value().(string)
		u, ok := parseUUID(us)
		if !ok {
			continue
		}
		flags, _ := props["Flags"].Value().([]string)
		got[u] = remoteChar{path: p, props: parseFlags(flags)}
		if v, ok := props["MTU"]; ok {
			mtu = max(mtu, clampMTU(v.Value()))
		}
	}
	return got, mtu
}

// char returns a discovered characteristic or an error.
func (cc *clientConn) char(op string, u ble.UUID) (remoteChar, error) {
	if closed(cc.down) {
		return remoteChar{}, fmt.Errorf("bluez: %s: %w", op, ble.ErrDisconnected)
	}
	cc.mu.Lock()
	rc, ok := cc.chars[u]
	cc.mu.Unlock()
	if !ok {
		return remoteChar{}, fmt.Errorf("bluez: %s: characteristic %v not discovered", op, u)
	}
	return rc, nil
}

// Subscribe implements ble.ClientConn with GattCharacteristic1.AcquireNotify
// (every notification arrives on a socket, notifyfd.go), or, where BlueZ
// does not offer it, StartNotify (bluetoothd writes the CCCD 0x2902 and then
// forwards notifications as PropertiesChanged on Value).
func (cc *clientConn) Subscribe(ctx context.Context, u ble.UUID) error {
	op := "subscribing to " + u.String()
	rc, err := cc.char(op, u)
	if err != nil {
		return err
	}
	if rc.props&ble.PropNotify == 0 {
		return fmt.Errorf("bluez: %s: characteristic does not notify", op)
	}
	if cc.acquireNotify(ctx, u, rc) {
		return nil
	}
	// Mark first: a notification may follow the reply immediately.
	cc.mu.Lock()
	cc.subscribed[u] = true
	cc.mu.Unlock()
	if err := cc.a.conn.Object(bluezService, rc.path).CallWithContext(ctx, ifaceGattChar+".StartNotify", 0).Err; err != nil {
		cc.mu.Lock()
		delete(cc.subscribed, u)
		cc.mu.Unlock()
		return mapError(ctx, cc.down, op, err)
	}
	return nil
}

// NextNotification implements ble.ClientConn.
func (cc *clientConn) NextNotification(ctx context.Context) (ble.CharValue, error) {
	return cc.notifs.pop(ctx, cc.down, "waiting for a notification")
}

// Write implements ble.ClientConn with GattCharacteristic1.WriteValue, type
// "command" (write without response) when the characteristic allows it.
func (cc *clientConn) Write(ctx context.Context, u ble.UUID, value []byte) error {
	op := "writing " + u.String()
	rc, err := cc.char(op, u)
	if err != nil {
		return err
	}
	if rc.props&(ble.PropWrite|ble.PropWriteWithoutResponse) == 0 {
		return fmt.Errorf("bluez: %s: characteristic is not writable", op)
	}
	if max := cc.MTU() - 3; len(value) > max {
		return fmt.Errorf("bluez: %s: %d bytes exceed MTU−3 = %d", op, len(value), max)
	}
	opts := map[string]dbus.Variant{"type": dbus.MakeVariant(writeType(rc.props))}
	err = cc.a.conn.Object(bluezService, rc.path).CallWithContext(ctx, ifaceGattChar+".WriteValue", 0, copyBytes(value), opts).Err
	return mapError(ctx, cc.down, op, err)
}

// Read implements ble.ClientConn with GattCharacteristic1.ReadValue.
func (cc *clientConn) Read(ctx context.Context, u ble.UUID) ([]byte, error) {
	op := "reading " + u.String()
	rc, err := cc.char(op, u)
	if err != nil {
		return nil, err
	}
	if rc.props&ble.PropRead == 0 {
		return nil, fmt.Errorf("bluez: %s: characteristic is not readable", op)
	}
	var v []byte
	err = cc.a.conn.Object(bluezService, rc.path).CallWithContext(ctx, ifaceGattChar+".ReadValue", 0, map[string]dbus.Variant{}).Store(&v)
	if err != nil {
		return nil, mapError(ctx, cc.down, op, err)
	}
	return v, nil // freshly decoded by godbus: the caller's own
}

// MTU implements ble.ClientConn: GattCharacteristic1 "MTU" (newer BlueZ)
// as last seen, or 23.
func (cc *clientConn) MTU() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.mtu == 0 {
		return ble.MinMTU
	}
	return cc.mtu
}

// Disconnected implements ble.ClientConn.
func (cc *clientConn) Disconnected() <-chan struct{} { return cc.down }

// Close implements ble.ClientConn: StopNotify on subscribed characteristics,
// then Device1.Disconnect. Clean-up errors are not reported.
func (cc *clientConn) Close() error {
	cc.closeOnce.Do(func() {
		a := cc.a
		if !closed(a.gone) && !closed(cc.down) {
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			cc.mu.Lock()
			var paths []dbus.ObjectPath
			for u, on := range cc.subscribed {
				if on {
					paths = append(paths, cc.chars[u].path)
				}
			}
			cc.mu.Unlock()
			for _, p := range paths {
				a.conn.Object(bluezService, p).CallWithContext(ctx, ifaceGattChar+".StopNotify", 0)
			}
			a.conn.Object(bluezService, cc.dev).CallWithContext(ctx, ifaceDevice+".Disconnect", 0)
			cancel()
		}
		cc.releaseNotify()
		cc.markDown()
		cc.stopWatch()
		cc.stopNotifs()
	})
	return nil
}
