//go:build !linux

package vpcd

// quickAck does nothing: TCP_QUICKACK is Linux-only.
func (c *Conn) quickAck() {}
