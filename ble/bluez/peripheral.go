package bluez

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble"
)

// multiNotifyOverhead is what MTU takes off the negotiated ATT MTU. To a
// client that supports it, bluetoothd (5.66) sends notifications as ATT
// Multiple Handle Value Notifications, whose handle-and-length header is 2
// bytes longer than a plain notification's, and cuts values longer than
// MTU−5 to fit: an 18013-5 chunk of MTU−3 bytes lost its last 2 bytes (seen
// in the BlueZ rig, docs/ble-rig.md). Chunking for MTU−2 keeps every
// notification whole.
const multiNotifyOverhead = 2

// cleanupTimeout bounds the D-Bus calls made to tidy up (unregistering,
// disconnecting) once the caller's context may already be over.
const cleanupTimeout = 3 * time.Second

// peripheral is the GATT-server role of an Adapter.
type peripheral struct{ a *Adapter }

// servedChar is one characteristic of a published service.
type servedChar struct {
	uuid  ble.UUID
	props ble.Property
	value []byte // PropRead value, a private copy
	path  dbus.ObjectPath
}

// serverConn is a published service and the one central using it.
type serverConn struct {
	a       *Adapter
	root    dbus.ObjectPath // application (ObjectManager)
	svcPath dbus.ObjectPath
	advPath dbus.ObjectPath
	svcUUID ble.UUID
	chars   map[dbus.ObjectPath]*servedChar
	byUUID  map[ble.UUID]*servedChar

	writes *valueQueue

	mu         sync.Mutex
	device     dbus.ObjectPath // the bound central, from the "device" option
	mtu        int
	subscribed map[ble.UUID]bool

	connected chan struct{}
	connOnce  sync.Once
	down      chan struct{}
	downOnce  sync.Once
	stopWatch func()

	advOnce   sync.Once
	closeOnce sync.Once
}

// Accept implements ble.Peripheral: it exports a GATT application holding
// svc, registers it with org.bluez.GattManager1, registers an LE
// advertisement of type "peripheral" listing svc.UUID with
// org.bluez.LEAdvertisingManager1, and waits for a central to use the
// service. The connection event is the first ReadValue or WriteValue that
// BlueZ forwards with a "device" option (StartNotify carries none); that
// device is then the one connection, and its Device1 "Connected" turning
// false (or its removal) is the disconnection event. Advertising stops when
// Accept returns.
func (p peripheral) Accept(ctx context.Context, svc ble.Service) (ble.ServerConn, error) {
	a := p.a
	if closed(a.gone) {
		return nil, fmt.Errorf("bluez: publishing service: %w", ble.ErrDisconnected)
	}
	if err := checkService(svc); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.appSeq++
	root := dbus.ObjectPath("/org/idreader/bluez/" + a.name + "/app" + strconv.Itoa(a.appSeq))
	a.mu.Unlock()

	sc := &serverConn{
		a:          a,
		root:       root,
		svcPath:    root + "/service0",
		advPath:    root + "/adv0",
		svcUUID:    svc.UUID,
		chars:      map[dbus.ObjectPath]*servedChar{},
		byUUID:     map[ble.UUID]*servedChar{},
		writes:     newValueQueue(),
		subscribed: map[ble.UUID]bool{},
		connected:  make(chan struct{}),
		down:       make(chan struct{}),
	}
	for i, c := range svc.Characteristics {
		ch := &servedChar{
			uuid:  c.UUID,
			props: c.Properties,
			value: copyBytes(c.Value),
			path:  sc.svcPath + dbus.ObjectPath("/char"+strconv.Itoa(i)),
		}
		sc.chars[ch.path] = ch
		sc.byUUID[ch.uuid] = ch
	}
	sc.stopWatch = a.watchDevice(sc.boundDevice, sc.markDown)

	if err := sc.export(); err != nil {
		sc.Close()
		return nil, fmt.Errorf("bluez: exporting service: %w", err)
	}
	a.mu.Lock()
	a.apps[root] = sc
	a.mu.Unlock()

	adapter := a.conn.Object(bluezService, a.path)
	if err := adapter.CallWithContext(ctx, ifaceGattManager+".RegisterApplication", 0, root, map[string]dbus.Variant{}).Err; err != nil {
		sc.Close()
		return nil, mapError(ctx, a.gone, "registering GATT application", err)
	}
	if err := adapter.CallWithContext(ctx, ifaceAdvManager+".RegisterAdvertisement", 0, sc.advPath, map[string]dbus.Variant{}).Err; err != nil {
		sc.Close()
		return nil, mapError(ctx, a.gone, "registering advertisement", err)
	}
	defer sc.stopAdvertising()

	select {
	case <-sc.connected:
		return sc, nil
	case <-sc.down:
		sc.Close()
		return nil, fmt.Errorf("bluez: waiting for a central: %w", ble.ErrDisconnected)
	case <-ctx.Done():
		sc.Close()
		return nil, fmt.Errorf("bluez: waiting for a central: %w", ctx.Err())
	}
}

// checkService rejects services BlueZ would refuse or that the contract
// cannot serve.
func checkService(svc ble.Service) error {
	if len(svc.Characteristics) == 0 {
		return errors.New("bluez: service has no characteristics")
	}
	seen := map[ble.UUID]bool{}
	for _, c := range svc.Characteristics {
		if seen[c.UUID] {
			return fmt.Errorf("bluez: characteristic %v listed twice", c.UUID)
		}
		seen[c.UUID] = true
		if len(charFlags(c.Properties)) == 0 {
			return fmt.Errorf("bluez: characteristic %v has no properties", c.UUID)
		}
		if len(c.Value) > 512 {
			return fmt.Errorf("bluez: characteristic %v value longer than 512 bytes", c.UUID)
		}
	}
	return nil
}

// managedObjects is the application tree returned by GetManagedObjects
// (org.bluez.GattManager1 RegisterApplication contract).
func (sc *serverConn) managedObjects() map[dbus.ObjectPath]map[string]map[string]dbus.Variant {
	objs := map[dbus.ObjectPath]map[string]map[string]dbus.Variant{
		sc.svcPath: {ifaceGattService: sc.serviceProps()},
	}
	for path, c := range sc.chars {
		objs[path] = map[string]map[string]dbus.Variant{ifaceGattChar: sc.charProps(c)}
	}
	return objs
}

func (sc *serverConn) serviceProps() map[string]dbus.Variant {
	return map[string]dbus.Variant{
		"UUID":    dbus.MakeVariant(uuidString(sc.svcUUID)),
		"Primary": dbus.MakeVariant(true),
	}
}

func (sc *serverConn) charProps(c *servedChar) map[string]dbus.Variant {
	p := map[string]dbus.Variant{
		"UUID":    dbus.MakeVariant(uuidString(c.uuid)),
		"Service": dbus.MakeVariant(sc.svcPath),
		"Flags":   dbus.MakeVariant(charFlags(c.props)),
	}
	if c.props&ble.PropRead != 0 {
		p["Value"] = dbus.MakeVariant(copyBytes(c.value))
	}
	return p
}

// advProps is the LE advertisement (org.bluez.LEAdvertisement1): connectable
// ("peripheral"), general discoverable, listing the service UUID. BlueZ puts
// a 128-bit UUID in the "complete list of 128-bit service UUIDs" AD type.
func (sc *serverConn) advProps() map[string]dbus.Variant {
	return map[string]dbus.Variant{
		"Type":         dbus.MakeVariant("peripheral"),
		"ServiceUUIDs": dbus.MakeVariant([]string{uuidString(sc.svcUUID)}),
		"Discoverable": dbus.MakeVariant(true),
	}
}

// propsObject serves org.freedesktop.DBus.Properties for one object.
type propsObject struct {
	sc    *serverConn
	props func() map[string]map[string]dbus.Variant
}

func (o propsObject) Get(sender dbus.Sender, iface, name string) (dbus.Variant, *dbus.Error) {
	if err := o.sc.checkSender(sender); err != nil {
		return dbus.Variant{}, err
	}
	if v, ok := o.props()[iface][name]; ok {
		return v, nil
	}
	return dbus.Variant{}, dbus.MakeFailedError(fmt.Errorf("no property %s.%s", iface, name))
}

func (o propsObject) GetAll(sender dbus.Sender, iface string) (map[string]dbus.Variant, *dbus.Error) {
	if err := o.sc.checkSender(sender); err != nil {
		return nil, err
	}
	p := o.props()[iface]
	if p == nil {
		p = map[string]dbus.Variant{}
	}
	return p, nil
}

func (o propsObject) Set(sender dbus.Sender, iface, name string, v dbus.Variant) *dbus.Error {
	return dbus.NewError("org.freedesktop.DBus.Error.PropertyReadOnly", []any{"read-only"})
}

// errNotPermitted is the BlueZ error for requests from a peer other than
// bluetoothd, or on a characteristic that does not allow them.
func errNotPermitted(msg string) *dbus.Error {
	return dbus.NewError("org.bluez.Error.NotPermitted", []any{msg})
}

func (sc *serverConn) checkSender(sender dbus.Sender) *dbus.Error {
	owner, _ := sc.a.bluezOwner.Load().(string)
	if string(sender) == "" || string(sender) != owner {
		return errNotPermitted("only bluetoothd may call")
	}
	return nil
}

// export puts the application objects on the bus. State changes caused by
// incoming calls happen in onCall, in arrival order; these handlers only
// answer.
func (sc *serverConn) export() error {
	conn := sc.a.conn
	om := map[string]any{
		"GetManagedObjects": func(sender dbus.Sender) (map[dbus.ObjectPath]map[string]map[string]dbus.Variant, *dbus.Error) {
			if err := sc.checkSender(sender); err != nil {
				return nil, err
			}
			return sc.managedObjects(), nil
		},
	}
	if err := conn.ExportMethodTable(om, sc.root, ifaceObjManager); err != nil {
		return err
	}
	svcProps := propsObject{sc, func() map[string]map[string]dbus.Variant {
		return map[string]map[string]dbus.Variant{ifaceGattService: sc.serviceProps()}
	}}
	if err := conn.Export(svcProps, sc.svcPath, ifaceProperties); err != nil {
		return err
	}
	for path, c := range sc.chars {
		c := c
		cp := propsObject{sc, func() map[string]map[string]dbus.Variant {
			return map[string]map[string]dbus.Variant{ifaceGattChar: sc.charProps(c)}
		}}
		if err := conn.Export(cp, path, ifaceProperties); err != nil {
			return err
		}
		methods := map[string]any{
			"ReadValue": func(sender dbus.Sender, opts map[string]dbus.Variant) ([]byte, *dbus.Error) {
				if err := sc.checkSender(sender); err != nil {
					return nil, err
				}
				if c.props&ble.PropRead == 0 {
					return nil, errNotPermitted("read not permitted")
				}
				off := offsetOption(opts)
				if off > len(c.value) {
					return nil, dbus.NewError("org.bluez.Error.InvalidOffset", []any{"invalid offset"})
				}
				return copyBytes(c.value[off:]), nil
			},
			"WriteValue": func(sender dbus.Sender, value []byte, opts map[string]dbus.Variant) *dbus.Error {
				if err := sc.checkSender(sender); err != nil {
					return err
				}
				return writeVerdict(c, opts)
			},
			"StartNotify": func(sender dbus.Sender) *dbus.Error {
				if err := sc.checkSender(sender); err != nil {
					return err
				}
				if c.props&ble.PropNotify == 0 {
					return dbus.NewError("org.bluez.Error.NotSupported", []any{"notify not supported"})
				}
				return nil
			},
			"StopNotify": func(sender dbus.Sender) *dbus.Error {
				return sc.checkSender(sender)
			},
		}
		if err := conn.ExportMethodTable(methods, path, ifaceGattChar); err != nil {
			return err
		}
	}
	advProps := propsObject{sc, func() map[string]map[string]dbus.Variant {
		return map[string]map[string]dbus.Variant{ifaceAdvertisment: sc.advProps()}
	}}
	if err := conn.Export(advProps, sc.advPath, ifaceProperties); err != nil {
		return err
	}
	adv := map[string]any{
		// Release: bluetoothd dropped the advertisement (it is then already
		// unregistered).
		"Release": func(sender dbus.Sender) *dbus.Error { return sc.checkSender(sender) },
	}
	return conn.ExportMethodTable(adv, sc.advPath, ifaceAdvertisment)
}

// offsetOption reads the "offset" option of ReadValue/WriteValue.
func offsetOption(opts map[string]dbus.Variant) int {
	if v, ok := opts["offset"]; ok {
		if o, ok := v.Value().(uint16); ok {
			return int(o)
		}
	}
	return 0
}

// writeVerdict decides whether a WriteValue is accepted; onCall and the
// exported handler both use it so that the value queued and the answer
// BlueZ gets agree. 18013-5 chunks fit one ATT PDU, so offsets (prepared
// writes) are refused.
func writeVerdict(c *servedChar, opts map[string]dbus.Variant) *dbus.Error {
	if c.props&(ble.PropWrite|ble.PropWriteWithoutResponse) == 0 {
		return errNotPermitted("write not permitted")
	}
	if offsetOption(opts) != 0 {
		return dbus.NewError("org.bluez.Error.InvalidOffset", []any{"offset writes not supported"})
	}
	return nil
}

// onCall sees every method call from bluetoothd to the application, in
// arrival order, on the bus reader goroutine; it must not block.
func (sc *serverConn) onCall(msg *dbus.Message) {
	iface, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	if iface != ifaceGattChar {
		return
	}
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	c := sc.chars[path]
	if c == nil {
		return
	}
	switch member {
	case "StartNotify", "StopNotify":
		if c.props&ble.PropNotify != 0 {
			sc.mu.Lock()
			sc.subscribed[c.uuid] = member == "StartNotify"
			sc.mu.Unlock()
		}
	case "ReadValue":
		if len(msg.Body) == 1 {
			if opts, ok := msg.Body[0].(map[string]dbus.Variant); ok {
				sc.bind(opts)
			}
		}
	case "WriteValue":
		if len(msg.Body) != 2 {
			return
		}
		value, ok1 := msg.Body[0].([]byte)
		opts, ok2 := msg.Body[1].(map[string]dbus.Variant)
		if !ok1 || !ok2 || writeVerdict(c, opts) != nil {
			return
		}
		if !sc.bind(opts) {
			return
		}
		sc.writes.push(ble.CharValue{Characteristic: c.uuid, Value: copyBytes(value)})
	}
}

// bind records the device and MTU of a call; the first device seen becomes
// the connection. It reports whether the call comes from the bound device
// (or from an unnamed one, when BlueZ predates the "device" option).
func (sc *serverConn) bind(opts map[string]dbus.Variant) bool {
	dev := deviceOption(opts)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.device == "" {
		sc.device = dev
	} else if dev != "" && dev != sc.device {
		return false
	}
	if m := mtuOption(opts); m != 0 {
		sc.mtu = m
	}
	sc.connOnce.Do(func() { close(sc.connected) })
	return true
}

func (sc *serverConn) boundDevice() dbus.ObjectPath {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.device
}

func (sc *serverConn) markDown() {
	sc.downOnce.Do(func() { close(sc.down) })
}

// NextWrite implements ble.ServerConn.
func (sc *serverConn) NextWrite(ctx context.Context) (ble.CharValue, error) {
	return sc.writes.pop(ctx, sc.down, "waiting for a write")
}

// Notify implements ble.ServerConn by emitting PropertiesChanged on the
// characteristic's Value, which bluetoothd turns into an ATT Handle Value
// Notification to the subscribed client.
func (sc *serverConn) Notify(ctx context.Context, char ble.UUID, value []byte) error {
	op := "notifying " + char.String()
	if closed(sc.down) {
		return fmt.Errorf("bluez: %s: %w", op, ble.ErrDisconnected)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bluez: %s: %w", op, err)
	}
	c := sc.byUUID[char]
	if c == nil || c.props&ble.PropNotify == 0 {
		return fmt.Errorf("bluez: %s: characteristic does not notify", op)
	}
	sc.mu.Lock()
	sub := sc.subscribed[char]
	sc.mu.Unlock()
	if !sub {
		return fmt.Errorf("bluez: %s: client has not subscribed", op)
	}
	if max := sc.MTU() - 3; len(value) > max {
		return fmt.Errorf("bluez: %s: %d bytes exceed MTU−3 = %d", op, len(value), max)
	}
	err := sc.a.conn.Emit(c.path, ifaceProperties+".PropertiesChanged", ifaceGattChar,
		map[string]dbus.Variant{"Value": dbus.MakeVariant(copyBytes(value))}, []string{})
	return mapError(ctx, sc.down, op, err)
}

// MTU implements ble.ServerConn: the "mtu" option of the latest ReadValue or
// WriteValue less multiNotifyOverhead, or 23 when BlueZ gave none.
func (sc *serverConn) MTU() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.mtu == 0 {
		return ble.MinMTU
	}
	return max(ble.MinMTU, sc.mtu-multiNotifyOverhead)
}

// Disconnected implements ble.ServerConn.
func (sc *serverConn) Disconnected() <-chan struct{} { return sc.down }

// stopAdvertising unregisters the advertisement (once).
func (sc *serverConn) stopAdvertising() {
	sc.advOnce.Do(func() {
		if closed(sc.a.gone) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		sc.a.conn.Object(bluezService, sc.a.path).CallWithContext(ctx, ifaceAdvManager+".UnregisterAdvertisement", 0, sc.advPath)
	})
}

// Close implements ble.ServerConn: it disconnects the bound device,
// unregisters the application and the advertisement, and removes the
// exported objects. Errors of the clean-up calls are not reported: the
// objects vanish with the process's bus connection anyway.
func (sc *serverConn) Close() error {
	sc.closeOnce.Do(func() {
		sc.stopAdvertising()
		a := sc.a
		if !closed(a.gone) {
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			if dev := sc.boundDevice(); dev != "" && !closed(sc.down) {
				a.conn.Object(bluezService, dev).CallWithContext(ctx, ifaceDevice+".Disconnect", 0)
			}
			a.conn.Object(bluezService, a.path).CallWithContext(ctx, ifaceGattManager+".UnregisterApplication", 0, sc.root)
			cancel()
		}
		sc.markDown()
		sc.stopWatch()
		a.mu.Lock()
		delete(a.apps, sc.root)
		a.mu.Unlock()
		conn := a.conn
		conn.ExportMethodTable(nil, sc.root, ifaceObjManager)
		conn.ExportMethodTable(nil, sc.svcPath, ifaceProperties)
		for path := range sc.chars {
			conn.ExportMethodTable(nil, path, ifaceProperties)
			conn.ExportMethodTable(nil, path, ifaceGattChar)
		}
		conn.ExportMethodTable(nil, sc.advPath, ifaceProperties)
		conn.ExportMethodTable(nil, sc.advPath, ifaceAdvertisment)
	})
	return nil
}
