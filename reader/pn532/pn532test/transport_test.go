package pn532test_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"periph.io/x/conn/v3/spi"

	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532test"
)

// directOptions are testOptions for a driver opened without a Rig over
// I2C or SPI.
func directOptions() pn532.Options {
	o := testOptions()
	o.Device.AckTimeout = pn532test.EmulatedAckTimeout
	return o
}

// TestIRQ: with the IRQ line wired the driver waits for it instead of
// polling the status byte, on I2C and SPI.
func TestIRQ(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, bus := range []string{pn532test.BusI2C, pn532test.BusSPI} {
		chip := pn532test.New(pn532test.Options{})
		var tr pn532.Transport
		if bus == pn532test.BusI2C {
			tr = pn532.NewI2C(chip.I2C(), pn532.I2COptions{IRQ: chip.IRQPin(), Poll: time.Hour})
		} else {
			c, err := chip.SPI().Connect(pn532.SPIMaxSpeed, pn532.SPIMode, 8)
			if err != nil {
				t.Fatal(err)
			}
			tr = pn532.NewSPI(c, pn532.SPIOptions{IRQ: chip.IRQPin(), Poll: time.Hour})
		}
		// With Poll an hour, only the IRQ line can tell the driver a frame
		// is ready in time.
		rd, err := pn532.New(ctx, tr, directOptions())
		if err != nil {
			t.Fatal(err)
		}
		rig := &pn532test.Rig{Chip: chip, Transport: tr, Reader: rd}
		w, cfg := newWallet(t, "mdl", wallet.HandoverNegotiated)
		out, _, err := tap(ctx, rig, w, cfg)
		accepted(t, out, err)
		rd.Close()
	}
}

// TestSPIBitOrder: a connection that shifts LSB first itself needs no
// reversal; reversing twice garbles every frame and the chip looks absent.
func TestSPIBitOrder(t *testing.T) {
	// Mostly waiting out ACK or response timeouts.
	t.Parallel()
	ctx := context.Background()
	chip := pn532test.New(pn532test.Options{})
	c, err := chip.SPI().Connect(pn532.SPIMaxSpeed, pn532.SPIMode|spi.LSBFirst, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pn532.New(ctx, pn532.NewSPI(c, pn532.SPIOptions{LSBFirst: true}), directOptions()); err != nil {
		t.Fatalf("hardware LSB first: %v", err)
	}
	_, err = pn532.New(ctx, pn532.NewSPI(c, pn532.SPIOptions{}), directOptions())
	if !errors.Is(err, reader.ErrNoReader) || !errors.Is(err, pn532.ErrNoACK) {
		t.Fatalf("bits reversed twice: %v", err)
	}
	if _, err := chip.SPI().Connect(10*pn532.SPIMaxSpeed, pn532.SPIMode, 8); err == nil {
		t.Fatal("50 MHz accepted")
	}
	if _, err := chip.SPI().Connect(pn532.SPIMaxSpeed, spi.Mode3, 8); err == nil {
		t.Fatal("mode 3 accepted")
	}
}

// TestNoChip: nothing at the address is no reader.
func TestNoChip(t *testing.T) {
	// Mostly waiting out ACK or response timeouts.
	t.Parallel()
	chip := pn532test.New(pn532test.Options{})
	_, err := pn532.New(context.Background(), pn532.NewI2C(chip.I2C(), pn532.I2COptions{Addr: 0x25}), directOptions())
	if !errors.Is(err, reader.ErrNoReader) || !errors.Is(err, pn532test.ErrNAK) {
		t.Fatalf("%v", err)
	}
}

// TestSyntaxError: a command the chip does not know is answered with the
// error frame.
func TestSyntaxError(t *testing.T) {
	rig := newRig(t, pn532test.BusSPI, pn532test.Options{}, testOptions())
	d := rig.Reader.Device()
	if _, err := d.Call(context.Background(), time.Second, 0x99, nil); !errors.Is(err, pn532.ErrSyntax) {
		t.Fatalf("unknown command: %v", err)
	}
	if fw, err := d.GetFirmwareVersion(context.Background()); err != nil || fw.IC != 0x32 {
		t.Fatalf("after a syntax error: %v %v", fw, err)
	}
}

// slowCard never answers until the exchange is abandoned.
type slowCard struct{}

func (slowCard) Transceiver() nfc.Transceiver { return slowCard{} }
func (slowCard) PowerOn()                     {}
func (slowCard) PowerOff()                    {}
func (slowCard) Transmit(ctx context.Context, _ []byte) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestExchangeTimeout: a response that does not come within the exchange
// timeout is aborted with an ACK; the error wraps reader.ErrTimeout, and
// the chip takes the next command.
func TestExchangeTimeout(t *testing.T) {
	// Mostly waiting out ACK or response timeouts.
	t.Parallel()
	opts := testOptions()
	opts.ExchangeTimeout = 50 * time.Millisecond
	for _, bus := range pn532test.Buses {
		rig := newRig(t, bus, pn532test.Options{}, opts)
		ctx := context.Background()
		rig.Chip.Put(slowCard{})
		tg, err := rig.Reader.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tg.Transmit(ctx, []byte{0x00, 0xA4, 0x04, 0x00, 0x00})
		if !errors.Is(err, reader.ErrTimeout) || errors.Is(err, reader.ErrRemoved) {
			t.Fatalf("%s: %v", bus, err)
		}
		if _, err := rig.Reader.Device().GetFirmwareVersion(ctx); err != nil {
			t.Fatalf("%s: after the abort: %v", bus, err)
		}
		tg.Close()
	}
}

// TestSilentWithoutReset: a chip silent for good and no reset line: the tap
// ends with the exchange aborted, Wait reports no reader; once the chip is power-cycled
// the next Wait configures it again and the tap after is accepted.
func TestSilentWithoutReset(t *testing.T) {
	// Mostly waiting out ACK or response timeouts.
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig := newRig(t, pn532test.BusI2C, pn532test.Options{}, testOptions())
	w, cfg := newWallet(t, "mnc", wallet.HandoverStatic)
	rig.Chip.Arm(pn532test.Fault{Kind: pn532test.FaultSilent, Command: pn532.CmdInDataExchange, At: 2})
	if _, _, err := tap(ctx, rig, w, cfg); !errors.Is(err, pn532.ErrUnacknowledged) {
		t.Fatalf("silent chip: %v", err)
	}
	if _, err := rig.Reader.Wait(ctx); !errors.Is(err, reader.ErrNoReader) {
		t.Fatalf("Wait on a dead chip: %v", err)
	}
	rig.Chip.Reset()
	out, _, err := tap(ctx, rig, w, cfg)
	accepted(t, out, err)
	if st := rig.Reader.Stats(); st.Resets < 2 {
		t.Fatalf("resets %d", st.Resets)
	}
}

// TestWaitContract: a target still in the field is not returned twice, Wait
// ends with its context, and Close ends a blocked Wait.
func TestWaitContract(t *testing.T) {
	rig := newRig(t, pn532test.BusSPI, pn532test.Options{}, testOptions())
	rig.Chip.Put(slowCard{})
	ctx := context.Background()
	tg, err := rig.Reader.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tg.Close()
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := rig.Reader.Wait(wctx); !errors.Is(err, reader.ErrTimeout) {
		t.Fatalf("same target returned again: %v", err)
	}
	if _, err := tg.Transmit(ctx, []byte{0, 0xA4, 4, 0}); !errors.Is(err, reader.ErrClosed) {
		t.Fatalf("transmit after close: %v", err)
	}
	rig.Chip.Remove()
	done := make(chan error, 1)
	go func() {
		_, err := rig.Reader.Wait(ctx)
		done <- err
	}()
	time.Sleep(30 * time.Millisecond)
	rig.Reader.Close()
	if err := <-done; !errors.Is(err, reader.ErrClosed) {
		t.Fatalf("Wait after Close: %v", err)
	}
}

// liarCard answers every APDU with 300 data bytes and 9000, whatever Le
// says: more than the command asked for, as a chained part delivered twice
// looks.
type liarCard struct{}

func (liarCard) Transceiver() nfc.Transceiver { return liarCard{} }
func (liarCard) PowerOn()                     {}
func (liarCard) PowerOff()                    {}
func (liarCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	return append(make([]byte, 300), 0x90, 0x00), nil
}

// TestChainChecked: a response the chip chains with MI that is longer than
// the command's Le is caught by the driver, not handed up; the target is
// not used again, and the next tap starts on a chip configured afresh.
func TestChainChecked(t *testing.T) {
	opts := testOptions()
	opts.Extended = true
	rig := newRig(t, pn532test.BusI2C, pn532test.Options{}, opts)
	ctx := context.Background()
	rig.Chip.Put(liarCard{})
	tg, err := rig.Reader.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Le 0x0100: at most 256 data bytes.
	_, err = tg.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00})
	if !errors.Is(err, pn532.ErrChain) || errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("over-long chained response: %v", err)
	}
	if _, err := tg.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x00}); err == nil {
		t.Fatal("the target was used again after a broken chain")
	}
	// Without Le nothing limits the response.
	tg.Close()
	rig.Chip.Remove()
	rig.Chip.Put(liarCard{})
	deadline, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tg2, err := rig.Reader.Wait(deadline)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tg2.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00})
	if err != nil || len(resp) != 302 {
		t.Fatalf("case 1 APDU: %d bytes, %v", len(resp), err)
	}
	tg2.Close()
	if st := rig.Reader.Stats(); st.Resets == 0 {
		t.Fatalf("the chip was not configured again: %+v", st)
	}
}

// TestLostACK: an InDataExchange whose ACK is lost or damaged is not sent
// again; the response that follows is taken.
func TestLostACK(t *testing.T) {
	ctx := context.Background()
	cmd, err := pn532.EncodeInfo(pn532.TFIHost, []byte{pn532.CmdInDataExchange, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x02})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := pn532.EncodeInfo(pn532.TFIChip, []byte{pn532.CmdInDataExchange + 1, 0x00, 0xAB, 0xCD, 0x90, 0x00})
	if err != nil {
		t.Fatal(err)
	}
	for name, tr := range map[string]pn532test.Transcript{
		"lost":    {{Dir: '>', Frame: cmd}, {Dir: '<', Frame: resp}},
		"damaged": {{Dir: '>', Frame: cmd}, {Dir: '<', Damaged: true}, {Dir: '<', Frame: resp}},
	} {
		p := pn532test.Replay(tr)
		d := pn532.NewDevice(p, pn532.DeviceOptions{})
		data, more, err := d.InDataExchange(ctx, time.Second, 0x01, []byte{0x00, 0xB0, 0x00, 0x00, 0x02}, false)
		if err != nil || more || !bytes.Equal(data, []byte{0xAB, 0xCD, 0x90, 0x00}) {
			t.Fatalf("%s ACK: % X %v %v", name, data, more, err)
		}
		if err := p.Close(); err != nil {
			t.Fatalf("%s ACK: %v", name, err)
		}
		if st := d.Stats(); st.Resends != 0 || st.Aborts != 0 {
			t.Fatalf("%s ACK: %+v", name, st)
		}
	}
}
