package mail

import (
	"net"
	"sync"
	"testing"
)

// ServeLoopback listens on a free loopback port and runs serve on every
// connection, each on its own goroutine, closing it after; it stops and
// waits for them at cleanup. (Exported for the mail_test package's tests.)
func ServeLoopback(t *testing.T, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	return ln
}
