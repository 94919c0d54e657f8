//go:build linux

package vpcd

import "syscall"

// quickAck turns on TCP_QUICKACK, which Linux clears again after some
// segments: the ACK for vpcd's 2-byte length goes out at once and vpcd's
// Nagle-delayed payload follows without the ~40 ms delayed-ACK wait.
func (c *Conn) quickAck() {
	if c.raw == nil {
		return
	}
	c.raw.Control(setQuickAck)
}

func setQuickAck(fd uintptr) {
	syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
}
