//go:build !linux

package vpcd

import "net"

// quickAck is a Linux-only latency fix; elsewhere frames take the slow path.
func quickAck(net.Conn) {}
