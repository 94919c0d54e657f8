package memlink

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
)

var svcUUID = ble.UUID{15: 1}

func connect(t *testing.T, l *Link, svc ble.Service) (ble.ServerConn, ble.ClientConn) {
	t.Helper()
	ctx := context.Background()
	sch := make(chan ble.ServerConn, 1)
	go func() {
		s, err := l.Peripheral().Accept(ctx, svc)
		if err != nil {
			t.Error(err)
		}
		sch <- s
	}()
	adv, err := l.Central().Scan(ctx, ble.ScanFilter{Service: svc.UUID})
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.Central().Connect(ctx, adv)
	if err != nil {
		t.Fatal(err)
	}
	return <-sch, c
}

// TestLinkContract checks the in-memory link against the GATT contract of
// package ble.
func TestLinkContract(t *testing.T) {
	chars := ble.ModeCentralClient.Characteristics()
	svc := ble.Service{UUID: svcUUID, Characteristics: []ble.CharacteristicSpec{
		{UUID: chars.State, Properties: ble.PropNotify | ble.PropWriteWithoutResponse},
		{UUID: chars.Client2Server, Properties: ble.PropWriteWithoutResponse},
		{UUID: chars.Server2Client, Properties: ble.PropNotify},
		{UUID: chars.Ident, Properties: ble.PropRead, Value: []byte("ident")},
	}}
	l, err := New(Config{MTU: 23})
	if err != nil {
		t.Fatal(err)
	}
	s, c := connect(t, l, svc)
	ctx := context.Background()
	if s.MTU() != 23 || c.MTU() != 23 {
		t.Fatal("MTU")
	}
	if err := c.Write(ctx, chars.State, []byte{1}); err == nil {
		t.Error("write before discovery succeeded")
	}
	if err := c.Discover(ctx, ble.UUID{}, nil); !errors.Is(err, ble.ErrNotFound) {
		t.Errorf("discover other service: %v", err)
	}
	if err := c.Discover(ctx, svcUUID, []ble.UUID{{1}}); !errors.Is(err, ble.ErrNotFound) {
		t.Errorf("discover missing characteristic: %v", err)
	}
	if err := c.Discover(ctx, svcUUID, chars.All()); err != nil {
		t.Fatal(err)
	}
	if err := s.Notify(ctx, chars.Server2Client, []byte{0}); err == nil {
		t.Error("notify without subscription succeeded")
	}
	if err := c.Subscribe(ctx, chars.Client2Server); err == nil {
		t.Error("subscribe to a non-notify characteristic succeeded")
	}
	if err := c.Write(ctx, chars.Server2Client, []byte{0}); err == nil {
		t.Error("write to a notify-only characteristic succeeded")
	}
	if err := c.Write(ctx, chars.Client2Server, make([]byte, 21)); err == nil {
		t.Error("write over MTU−3 succeeded")
	}
	if id, err := c.Read(ctx, chars.Ident); err != nil || string(id) != "ident" {
		t.Errorf("read: %q %v", id, err)
	}
	if err := c.Subscribe(ctx, chars.Server2Client); err != nil {
		t.Fatal(err)
	}
	buf := []byte{0, 'h', 'i'}
	if err := c.Write(ctx, chars.Client2Server, buf); err != nil {
		t.Fatal(err)
	}
	buf[1] = 'X' // the link must have copied the value
	if err := s.Notify(ctx, chars.Server2Client, []byte{0, 'o'}); err != nil {
		t.Fatal(err)
	}
	// Queued values are delivered before the disconnection is reported.
	c.Close()
	if v, err := s.NextWrite(ctx); err != nil || v.Characteristic != chars.Client2Server || !bytes.Equal(v.Value, []byte{0, 'h', 'i'}) {
		t.Errorf("NextWrite: %v %v", v, err)
	}
	if v, err := c.NextNotification(ctx); err != nil || !bytes.Equal(v.Value, []byte{0, 'o'}) {
		t.Errorf("NextNotification: %v %v", v, err)
	}
	if _, err := s.NextWrite(ctx); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("NextWrite after close: %v", err)
	}
	if err := s.Notify(ctx, chars.Server2Client, []byte{0}); !errors.Is(err, ble.ErrDisconnected) {
		t.Errorf("Notify after close: %v", err)
	}
	select {
	case <-s.Disconnected():
	default:
		t.Error("Disconnected not closed")
	}
}

func TestAcceptTimeout(t *testing.T) {
	l, _ := New(Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := l.Peripheral().Accept(ctx, ble.Service{UUID: svcUUID}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Accept: %v", err)
	}
	// Advertising stopped, so a scan finds nothing.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if _, err := l.Central().Scan(ctx2, ble.ScanFilter{Service: svcUUID}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Scan: %v", err)
	}
	if _, err := l.Central().Connect(context.Background(), ble.Advertisement{}); !errors.Is(err, ble.ErrNotFound) {
		t.Fatalf("Connect without advertiser: %v", err)
	}
}
