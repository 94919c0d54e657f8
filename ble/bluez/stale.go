package bluez

import (
	"context"

	"github.com/godbus/dbus/v5"
)

// dropStaleDevices removes, before a scan, the devices bluetoothd keeps
// under this adapter that are neither connected, paired nor trusted. Once
// bluetoothd has resolved a device's GATT services it no longer takes the
// service UUIDs of its advertisements into Device1 "UUIDs" (BlueZ 5.66): a
// phone (or the rig's wallet) that connected once and now advertises a new
// 18013-5 service UUID would never match the scan filter (seen in the BlueZ
// rig, docs/ble-rig.md). 18013-5 does not pair, so a removed device is only
// a cache entry; paired or trusted devices (a keyboard) are kept. Errors are
// ignored: the scan then behaves as before.
func (a *Adapter) dropStaleDevices(ctx context.Context) {
	objs, err := a.managedObjects(ctx)
	if err != nil {
		return
	}
	adapter := a.conn.Object(bluezService, a.path)
	for p, ifaces := range objs {
		props, ok := ifaces[ifaceDevice]
		if !ok {
			continue
		}
		if adp, _ := props["Adapter"].Value().(dbus.ObjectPath); adp != a.path {
			continue
		}
		connected, _ := props["Connected"].Value().(bool)
		paired, _ := props["Paired"].Value().(bool)
		trusted, _ := props["Trusted"].Value().(bool)
		if connected || paired || trusted {
			continue
		}
		adapter.CallWithContext(ctx, ifaceAdapter+".RemoveDevice", 0, p)
	}
}
