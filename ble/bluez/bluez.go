package bluez

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble"
)

// Sentinel errors of Open, for callers that branch on the cause.
var (
	// ErrNoBus reports that the system D-Bus could not be reached.
	ErrNoBus = errors.New("bluez: no system D-Bus")
	// ErrNoBlueZ reports that bluetoothd does not own org.bluez on the bus.
	ErrNoBlueZ = errors.New("bluez: bluetoothd not running")
	// ErrNoAdapter reports that the named adapter (Options.Adapter) does not
	// exist or cannot be powered.
	ErrNoAdapter = errors.New("bluez: no adapter")
)

// Options configures Open.
type Options struct {
	// Adapter is the BlueZ adapter name; "" means "hci0".
	Adapter string
	// BusAddress is the D-Bus address to use; "" means the system bus
	// ($DBUS_SYSTEM_BUS_ADDRESS, else unix:path=/var/run/dbus/system_bus_socket).
	BusAddress string
}

// Adapter is one BlueZ adapter reached over D-Bus. It offers both GATT roles;
// it is safe for concurrent use.
type Adapter struct {
	conn    *dbus.Conn
	name    string
	path    dbus.ObjectPath
	address ble.Address

	bluezOwner atomic.Value  // string: unique bus name of bluetoothd
	gone       chan struct{} // closed when bluetoothd leaves the bus or the bus closes
	goneOnce   sync.Once

	mu     sync.Mutex
	subs   map[int]func(*dbus.Message)
	nextID int
	apps   map[dbus.ObjectPath]*serverConn // by application root path
	appSeq int

	closeOnce sync.Once

	lost     chan struct{} // closed when the adapter is lost (lost.go)
	lostOnce sync.Once
	lostErr  atomic.Value // error wrapping ErrAdapterLost
}

// Open connects to the system D-Bus, checks that bluetoothd is running and
// that the adapter exists, and powers it on. It returns an error wrapping
// ErrNoBus, ErrNoBlueZ or ErrNoAdapter (or ctx.Err()) when it cannot; it
// never blocks past ctx. Close the Adapter when done.
func Open(ctx context.Context, opts Options) (*Adapter, error) {
	name := opts.Adapter
	if name == "" {
		name = "hci0"
	}
	if !validAdapterName(name) {
		return nil, fmt.Errorf("%w: invalid adapter name %q", ErrNoAdapter, name)
	}
	addr := opts.BusAddress
	if addr == "" {
		addr = os.Getenv("DBUS_SYSTEM_BUS_ADDRESS")
	}
	if addr == "" {
		addr = defaultSystemBus
	}
	a := &Adapter{
		name: name,
		path: dbus.ObjectPath("/org/bluez/" + name),
		gone: make(chan struct{}),
		lost: make(chan struct{}),
		subs: map[int]func(*dbus.Message){},
		apps: map[dbus.ObjectPath]*serverConn{},
	}
	a.bluezOwner.Store("")
	conn, err := dialBus(ctx, addr, a.intercept)
	if err != nil {
		return nil, err
	}
	a.conn = conn
	a.watchAdapter()
	if err := a.init(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	go func() {
		<-conn.Context().Done()
		a.markGone()
	}()
	return a, nil
}

// dialBus connects and authenticates to the bus at addr, giving up when ctx
// is done (the connection, if it comes later, is closed).
func dialBus(ctx context.Context, addr string, in dbus.Interceptor) (*dbus.Conn, error) {
	type result struct {
		c   *dbus.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := dbus.Dial(addr, dbus.WithIncomingInterceptor(in))
		if err == nil {
			if err = c.Auth(nil); err == nil {
				err = c.Hello()
			}
			if err != nil {
				c.Close()
				c = nil
			}
		}
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoBus, r.err)
		}
		return r.c, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, fmt.Errorf("%w: %s: %w", ErrNoBus, addr, ctx.Err())
	}
}

// init finds bluetoothd and the adapter, subscribes to the signals both roles
// need, and powers the adapter on.
func (a *Adapter) init(ctx context.Context) error {
	var owner string
	err := a.conn.BusObject().CallWithContext(ctx, busService+".GetNameOwner", 0, bluezService).Store(&owner)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrNoBlueZ, ctx.Err())
		}
		return fmt.Errorf("%w: %v", ErrNoBlueZ, err)
	}
	a.bluezOwner.Store(owner)

	// Signals: property changes and object additions/removals from
	// bluetoothd, and bluetoothd leaving the bus.
	matches := [][]dbus.MatchOption{
		{dbus.WithMatchSender(bluezService), dbus.WithMatchInterface(ifaceProperties), dbus.WithMatchMember("PropertiesChanged"), dbus.WithMatchPathNamespace(a.path)},
		{dbus.WithMatchSender(bluezService), dbus.WithMatchInterface(ifaceObjManager)},
		{dbus.WithMatchSender(busService), dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, bluezService)},
	}
	for _, m := range matches {
		if err := a.conn.AddMatchSignalContext(ctx, m...); err != nil {
			return fmt.Errorf("bluez: subscribing to signals: %w", err)
		}
	}

	props := map[string]dbus.Variant{}
	err = a.conn.Object(bluezService, a.path).CallWithContext(ctx, ifaceProperties+".GetAll", 0, ifaceAdapter).Store(&props)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w %s: %w", ErrNoAdapter, a.name, ctx.Err())
		}
		return fmt.Errorf("%w %s: %v", ErrNoAdapter, a.name, err)
	}
	if s, ok := props["Address"].Value().(string); ok {
		a.address, _ = parseAddress(s)
	}
	if on, _ := props["Powered"].Value().(bool); !on {
		err := a.conn.Object(bluezService, a.path).CallWithContext(ctx, ifaceProperties+".Set", 0,
			ifaceAdapter, "Powered", dbus.MakeVariant(true)).Err
		if err != nil {
			return fmt.Errorf("%w %s: powering on: %v", ErrNoAdapter, a.name, err)
		}
	}
	return nil
}

// Address reports the adapter's own device address.
func (a *Adapter) Address() ble.Address { return a.address }

// Name reports the adapter name ("hci0").
func (a *Adapter) Name() string { return a.name }

// Peripheral returns the GATT-server role of the adapter.
func (a *Adapter) Peripheral() ble.Peripheral { return peripheral{a} }

// Central returns the GATT-client role of the adapter.
func (a *Adapter) Central() ble.Central { return central{a} }

// Close disconnects from D-Bus; BlueZ then drops the advertisements and
// applications registered by this process. Connections obtained from the
// Adapter report ErrDisconnected afterwards. Close may be called more than
// once.
func (a *Adapter) Close() error {
	var err error
	a.closeOnce.Do(func() {
		err = a.conn.Close()
		a.markGone()
	})
	return err
}

func (a *Adapter) markGone() {
	a.goneOnce.Do(func() { close(a.gone) })
}

// subscribe registers fn to see every incoming message, in arrival order, on
// the connection's reader goroutine: fn must not block. It returns the
// function that removes the subscription.
func (a *Adapter) subscribe(fn func(*dbus.Message)) (cancel func()) {
	a.mu.Lock()
	id := a.nextID
	a.nextID++
	a.subs[id] = fn
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.subs, id)
		a.mu.Unlock()
	}
}

// intercept runs for every incoming message, in order, before godbus
// dispatches it (method calls to exported objects are otherwise run on
// separate goroutines, which would reorder writes).
func (a *Adapter) intercept(msg *dbus.Message) {
	if msg.Type == dbus.TypeSignal && isNameOwnerChanged(msg) {
		if len(msg.Body) == 3 {
			if name, _ := msg.Body[0].(string); name == bluezService {
				newOwner, _ := msg.Body[2].(string)
				a.bluezOwner.Store(newOwner)
				if newOwner == "" {
					a.markGone()
				}
			}
		}
	}
	a.mu.Lock()
	subs := make([]func(*dbus.Message), 0, len(a.subs)+1)
	for _, fn := range a.subs {
		subs = append(subs, fn)
	}
	var app *serverConn
	if msg.Type == dbus.TypeMethodCall {
		if p, ok := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath); ok {
			for root, sc := range a.apps {
				if p == root || len(p) > len(root) && p[:len(root)+1] == root+"/" {
					app = sc
					break
				}
			}
		}
	}
	a.mu.Unlock()
	if app != nil && a.fromBlueZ(msg) {
		app.onCall(msg)
	}
	for _, fn := range subs {
		fn(msg)
	}
}

// fromBlueZ reports whether msg was sent by bluetoothd (exported objects are
// reachable by any peer on the system bus).
func (a *Adapter) fromBlueZ(msg *dbus.Message) bool {
	s, _ := msg.Headers[dbus.FieldSender].Value().(string)
	owner, _ := a.bluezOwner.Load().(string)
	return s != "" && s == owner
}

func isNameOwnerChanged(msg *dbus.Message) bool {
	m, _ := msg.Headers[dbus.FieldMember].Value().(string)
	i, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	return m == "NameOwnerChanged" && i == busService
}

// signalInfo returns the path, interface and member of a signal.
func signalInfo(msg *dbus.Message) (path dbus.ObjectPath, iface, member string, ok bool) {
	if msg.Type != dbus.TypeSignal {
		return "", "", "", false
	}
	path, _ = msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	iface, _ = msg.Headers[dbus.FieldInterface].Value().(string)
	member, _ = msg.Headers[dbus.FieldMember].Value().(string)
	return path, iface, member, true
}

// propertiesChanged decodes a PropertiesChanged signal of interface want on
// any path: the path and the changed properties.
func propertiesChanged(msg *dbus.Message, want string) (dbus.ObjectPath, map[string]dbus.Variant, bool) {
	path, iface, member, ok := signalInfo(msg)
	if !ok || iface != ifaceProperties || member != "PropertiesChanged" || len(msg.Body) < 2 {
		return "", nil, false
	}
	if i, _ := msg.Body[0].(string); i != want {
		return "", nil, false
	}
	changed, ok := msg.Body[1].(map[string]dbus.Variant)
	return path, changed, ok
}

// interfacesAdded decodes an ObjectManager InterfacesAdded signal.
func interfacesAdded(msg *dbus.Message) (dbus.ObjectPath, map[string]map[string]dbus.Variant, bool) {
	_, iface, member, ok := signalInfo(msg)
	if !ok || iface != ifaceObjManager || member != "InterfacesAdded" || len(msg.Body) < 2 {
		return "", nil, false
	}
	p, ok1 := msg.Body[0].(dbus.ObjectPath)
	m, ok2 := msg.Body[1].(map[string]map[string]dbus.Variant)
	return p, m, ok1 && ok2
}

// interfacesRemoved decodes an ObjectManager InterfacesRemoved signal.
func interfacesRemoved(msg *dbus.Message) (dbus.ObjectPath, []string, bool) {
	_, iface, member, ok := signalInfo(msg)
	if !ok || iface != ifaceObjManager || member != "InterfacesRemoved" || len(msg.Body) < 2 {
		return "", nil, false
	}
	p, ok1 := msg.Body[0].(dbus.ObjectPath)
	l, ok2 := msg.Body[1].([]string)
	return p, l, ok1 && ok2
}

// watchDevice calls down once when the device at path disconnects (Connected
// false, object removed), bluetoothd leaves or the bus closes. It returns the
// function that stops watching.
func (a *Adapter) watchDevice(path func() dbus.ObjectPath, down func()) (cancel func()) {
	var once sync.Once
	fire := func() { once.Do(down) }
	cancelSub := a.subscribe(func(msg *dbus.Message) {
		dev := path()
		if dev == "" {
			return
		}
		if p, changed, ok := propertiesChanged(msg, ifaceDevice); ok && p == dev {
			if v, ok := changed["Connected"]; ok {
				if c, _ := v.Value().(bool); !c {
					fire()
				}
			}
			return
		}
		if p, ifaces, ok := interfacesRemoved(msg); ok && p == dev {
			for _, i := range ifaces {
				if i == ifaceDevice {
					fire()
				}
			}
		}
	})
	stop := make(chan struct{})
	go func() {
		select {
		case <-a.gone:
			fire()
		case <-stop:
		}
	}()
	var stopOnce sync.Once
	return func() {
		cancelSub()
		stopOnce.Do(func() { close(stop) })
	}
}
