package bluez

import (
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// ErrAdapterLost reports that an opened adapter stopped being usable: it
// was powered off, its controller was removed (org.bluez.Adapter1 gone from
// bluetoothd's object tree), bluetoothd left the bus, or the bus closed.
// Connections of the adapter then report ble.ErrDisconnected; the adapter
// must be closed and opened again once it is back.
var ErrAdapterLost = errors.New("bluez: adapter lost")

// Lost returns a channel closed when the adapter is lost (see
// ErrAdapterLost); LostErr then tells why.
func (a *Adapter) Lost() <-chan struct{} { return a.lost }

// LostErr returns nil while the adapter is usable, and afterwards an error
// wrapping ErrAdapterLost that says why it is not.
func (a *Adapter) LostErr() error {
	if err, ok := a.lostErr.Load().(error); ok {
		return err
	}
	return nil
}

// markLost records the first reason the adapter was lost.
func (a *Adapter) markLost(why string) {
	a.lostOnce.Do(func() {
		a.lostErr.Store(fmt.Errorf("%w: %s %s", ErrAdapterLost, a.name, why))
		close(a.lost)
	})
}

// watchAdapter follows the adapter object: "Powered" turning false and the
// removal of its Adapter1 interface mark it lost, as does bluetoothd leaving
// (a.gone) and the bus connection closing (which also ends the goroutine
// when Open fails). The signals are those init subscribes to.
func (a *Adapter) watchAdapter() {
	a.subscribe(func(msg *dbus.Message) {
		if p, changed, ok := propertiesChanged(msg, ifaceAdapter); ok && p == a.path {
			if v, ok := changed["Powered"]; ok {
				if on, _ := v.Value().(bool); !on {
					a.markLost("powered off")
				}
			}
			return
		}
		if p, ifaces, ok := interfacesRemoved(msg); ok && p == a.path {
			for _, i := range ifaces {
				if i == ifaceAdapter {
					a.markLost("removed")
				}
			}
		}
	})
	go func() {
		select {
		case <-a.gone:
			a.markLost("unreachable: bluetoothd left the bus")
		case <-a.conn.Context().Done():
			a.markLost("unreachable: the D-Bus connection closed")
		case <-a.lost:
		}
	}()
}
