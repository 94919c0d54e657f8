package bluez

import (
	"context"
	"os"

	"github.com/godbus/dbus/v5"

	"github.com/idreader/idreader/ble"
)

// notifyBufSize bounds one notification read from an AcquireNotify socket;
// ATT values are at most 512 bytes.
const notifyBufSize = 1024

// acquireNotify subscribes with GattCharacteristic1.AcquireNotify, which
// hands over a socket (SOCK_SEQPACKET) that carries each notification as
// one packet. It reports false when BlueZ does not offer it (older
// releases, or a characteristic that cannot), and the caller falls back to
// StartNotify.
//
// StartNotify delivers notifications as PropertiesChanged on "Value", and
// bluetoothd coalesces property changes queued in one main-loop turn: two
// notifications in quick succession reach the client as one signal with the
// second value, so an 18013-5 chunk is lost (seen in the BlueZ rig with
// BlueZ 5.66; docs/ble-rig.md). The socket keeps every one, in order.
func (cc *clientConn) acquireNotify(ctx context.Context, u ble.UUID, rc remoteChar) bool {
	var (
		fd  dbus.UnixFD
		mtu uint16
	)
	call := cc.a.conn.Object(bluezService, rc.path).CallWithContext(ctx, ifaceGattChar+".AcquireNotify", 0, map[string]dbus.Variant{})
	if call.Err != nil || call.Store(&fd, &mtu) != nil || fd < 0 {
		return false
	}
	f := os.NewFile(uintptr(fd), "bluez-notify")
	if f == nil {
		return false
	}
	cc.mu.Lock()
	if cc.acquired == nil {
		cc.acquired = map[ble.UUID]*os.File{}
	}
	if old := cc.acquired[u]; old != nil {
		old.Close()
	}
	cc.acquired[u] = f
	if m := int(mtu); m > cc.mtu && m <= 517 {
		cc.mtu = m
	}
	cc.mu.Unlock()
	go func() {
		buf := make([]byte, notifyBufSize)
		for {
			n, err := f.Read(buf)
			if err != nil || n == 0 {
				// BlueZ closes the socket when the link or the
				// subscription ends; the device watcher reports the
				// disconnection.
				return
			}
			cc.notifs.push(ble.CharValue{Characteristic: u, Value: copyBytes(buf[:n])})
		}
	}()
	return true
}

// releaseNotify closes the AcquireNotify sockets (BlueZ then stops
// notifying on them).
func (cc *clientConn) releaseNotify() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for u, f := range cc.acquired {
		f.Close()
		delete(cc.acquired, u)
	}
}
