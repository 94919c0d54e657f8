package bluez

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenNoBus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := "unix:path=" + filepath.Join(t.TempDir(), "no-such-socket")
	_, err := Open(ctx, Options{Adapter: "hci0", BusAddress: addr})
	if !errors.Is(err, ErrNoBus) || !strings.HasPrefix(err.Error(), "bluez: no system D-Bus: ") {
		t.Fatalf("Open without a bus = %v", err)
	}
}

// TestOpenSilentBus checks that Open gives up with ctx when the socket
// accepts but nobody speaks D-Bus.
func TestOpenSilentBus(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "silent")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Open(ctx, Options{BusAddress: "unix:path=" + sock})
	if !errors.Is(err, ErrNoBus) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open on a silent bus = %v", err)
	}
}

func TestOpenBadAdapterName(t *testing.T) {
	_, err := Open(context.Background(), Options{Adapter: "hci0/../x"})
	if !errors.Is(err, ErrNoAdapter) {
		t.Fatalf("Open with a bad adapter name = %v", err)
	}
}
