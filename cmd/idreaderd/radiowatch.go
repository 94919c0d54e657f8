package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/idreader/idreader/daemon"
)

// radioWatchRetry is how often a lost or missing adapter is tried again in
// the background, so that it is picked up without waiting for a tap.
const radioWatchRetry = 3 * time.Second

// state is the radio's availability now: "ok", or why it is not usable.
// It notices a lost adapter (powered off, controller removed, bluetoothd
// gone) at once, between taps too.
func (r *radio) state() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropLost()
	if r.a != nil {
		return "ok"
	}
	if r.err != nil {
		return r.err.Error()
	}
	return "not opened yet"
}

// dropLost closes the adapter once bluez reports it lost, keeping the reason
// as the radio's error until the next open, which is due after the usual
// retry interval (the watcher tries after radioWatchRetry): a powered-off
// adapter is powered on again then, not at once. It runs under r.mu.
func (r *radio) dropLost() {
	if r.a == nil {
		return
	}
	lost := r.a.LostErr()
	if lost == nil {
		return
	}
	r.a.Close()
	r.a = nil
	r.err = lost
	r.tried = r.now()
}

// watch follows the adapter until ctx ends: it logs the adapter's loss as
// soon as bluez reports it, and while the adapter is missing tries to open it
// again every radioWatchRetry, logging when it is back.
func (r *radio) watch(ctx context.Context, log zerolog.Logger) {
	for ctx.Err() == nil {
		r.mu.Lock()
		a := r.a
		r.mu.Unlock()
		if a != nil {
			select {
			case <-ctx.Done():
				return
			case <-a.Lost():
			}
			log.Error().Err(a.LostErr()).Str("adapter", r.adapter).
				Msg("bluetooth LE adapter lost: NFC readers go on over NFC only; qr readers are down until it is back")
			r.state() // closes it
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(radioWatchRetry):
		}
		r.mu.Lock()
		if r.a == nil {
			r.tried = time.Time{} // due now
		}
		r.mu.Unlock()
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := r.get(octx, 0)
		cancel()
		if err == nil {
			log.Info().Str("adapter", r.adapter).Msg("bluetooth LE adapter ready")
		}
	}
}

// radioService is the daemon's Service as the HTTP API sees it: each
// reader's ReaderStatus.BLE is its radio's state now rather than at its last
// tap, and a qr reader, which retrieves over BLE only, is down while its
// radio is.
type radioService struct {
	daemon.Service
	radios map[string]*radio // by reader name
	qr     map[string]bool   // qr readers by name
}

// Readers implements daemon.Service.
func (s radioService) Readers() []daemon.ReaderStatus {
	rs := s.Service.Readers()
	for i := range rs {
		r := s.radios[rs[i].Name]
		if r == nil {
			continue
		}
		rs[i].BLE = r.state()
		if rs[i].BLE != "ok" && s.qr[rs[i].Name] {
			rs[i].Up = false
		}
	}
	return rs
}
