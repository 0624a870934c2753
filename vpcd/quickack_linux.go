package vpcd

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge the next segments at once. vpcd writes
// a frame's length and its payload in two sends; with Nagle on its side and
// delayed ACKs on ours, the payload would wait ~40 ms for our ACK of the
// length. Linux clears the flag again by itself, so it is set before every
// read.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
