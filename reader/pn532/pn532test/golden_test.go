package pn532test_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532test"
)

var update = flag.Bool("update", false, "re-record the frame transcripts of testdata/pn532 against the emulated chip")

// echoCard answers SELECT with 9000 and any other APDU with its bytes after
// the header followed by 9000: deterministic, so a tap through it can be
// replayed frame by frame.
type echoCard struct{}

func (echoCard) Transceiver() nfc.Transceiver { return echoCard{} }
func (echoCard) PowerOn()                     {}
func (echoCard) PowerOff()                    {}
func (echoCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	if apdu[1] == 0xA4 {
		return []byte{0x90, 0x00}, nil
	}
	return append(append([]byte(nil), apdu[4:]...), 0x90, 0x00), nil
}

// field is what a golden scenario does to the field; the hooks do nothing
// on replay, where only the frames count.
type field struct {
	put, remove func()
	arm         func(...pn532test.Fault)
}

type scenario struct {
	name   string
	header string
	chip   pn532test.Options
	opts   pn532.Options
	run    func(ctx context.Context, rd *pn532.Reader, f field) error
}

var selectAPDU = []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00, 0x00}

// echoAPDU is 80 10 00 00 with n data bytes, short or extended.
func echoAPDU(n int) []byte {
	var a []byte
	if n <= 255 {
		a = []byte{0x80, 0x10, 0x00, 0x00, byte(n)}
	} else {
		a = []byte{0x80, 0x10, 0x00, 0x00, 0x00, byte(n >> 8), byte(n)}
	}
	for i := range n {
		a = append(a, byte(i))
	}
	return a
}

func exchange(ctx context.Context, t reader.Target, apdu []byte) error {
	resp, err := t.Transmit(ctx, apdu)
	if err != nil {
		return err
	}
	if want, _ := (echoCard{}).Transmit(ctx, apdu); !bytes.Equal(resp, want) {
		return fmt.Errorf("response % X, want % X", resp, want)
	}
	return nil
}

// tapAndLeave waits for the target, runs each APDU, and takes it away.
func tapAndLeave(apdus ...[]byte) func(ctx context.Context, rd *pn532.Reader, f field) error {
	return func(ctx context.Context, rd *pn532.Reader, f field) error {
		t, err := rd.Wait(ctx)
		if err != nil {
			return err
		}
		for _, a := range apdus {
			if err := exchange(ctx, t, a); err != nil {
				return err
			}
		}
		f.remove()
		if err := t.WaitRemoved(ctx); err != nil {
			return err
		}
		return t.Close()
	}
}

var scenarios = []scenario{
	{
		name:   "tap",
		header: "configure the chip, one Type A phone at 424 kbit/s: SELECT, a 250-byte echo, presence check after it left",
		run:    tapAndLeave(selectAPDU, echoAPDU(250)),
	},
	{
		name:   "extended",
		header: "extended APDUs: a 700-byte command chained to the chip with MI, its 698-byte response fetched with MI",
		opts:   pn532.Options{Extended: true},
		run:    tapAndLeave(selectAPDU, echoAPDU(700)),
	},
	{
		name:   "typeb-psl-refused",
		header: "a Type B card that refuses 424 kbit/s: the exchange goes on at 106 kbit/s",
		chip:   pn532test.Options{TypeB: true},
		opts:   pn532.Options{TypeB: true},
		run: func(ctx context.Context, rd *pn532.Reader, f field) error {
			f.arm(pn532test.Fault{Kind: pn532test.FaultRefusePSL, Command: pn532.CmdInPSL})
			return tapAndLeave(selectAPDU)(ctx, rd, f)
		},
	},
	{
		name:   "faults",
		header: "a NACK and a damaged response (each sent again), then the phone leaves at the fourth exchange",
		run: func(ctx context.Context, rd *pn532.Reader, f field) error {
			f.arm(
				pn532test.Fault{Kind: pn532test.FaultNACK, Command: pn532.CmdInDataExchange, At: 1},
				pn532test.Fault{Kind: pn532test.FaultBadChecksum, Command: pn532.CmdInDataExchange, At: 3},
				pn532test.Fault{Kind: pn532test.FaultLoseTarget, Command: pn532.CmdInDataExchange, At: 5},
			)
			t, err := rd.Wait(ctx)
			if err != nil {
				return err
			}
			for i := range 3 {
				if err := exchange(ctx, t, echoAPDU(10*i)); err != nil {
					return err
				}
			}
			if err := exchange(ctx, t, echoAPDU(1)); !errors.Is(err, reader.ErrRemoved) {
				return fmt.Errorf("fourth exchange: %v, want reader.ErrRemoved", err)
			}
			return t.Close()
		},
	},
	{
		name:   "no-ack",
		header: "a missing ACK on InDataExchange: the command is aborted with an ACK, not sent again; the next command resynchronises with a communication line test",
		run: func(ctx context.Context, rd *pn532.Reader, f field) error {
			f.arm(pn532test.Fault{Kind: pn532test.FaultNoACK, Command: pn532.CmdInDataExchange, At: 2})
			t, err := rd.Wait(ctx)
			if err != nil {
				return err
			}
			if err := exchange(ctx, t, selectAPDU); err != nil {
				return err
			}
			if err := exchange(ctx, t, echoAPDU(20)); !errors.Is(err, pn532.ErrUnacknowledged) || errors.Is(err, reader.ErrRemoved) {
				return fmt.Errorf("unacknowledged exchange: %v, want pn532.ErrUnacknowledged", err)
			}
			if err := exchange(ctx, t, echoAPDU(1)); err == nil {
				return errors.New("the target was used after an aborted exchange")
			}
			return t.Close()
		},
	},
}

// TestGolden replays the frame transcripts of testdata/pn532 strictly
// against the driver; with -update it records them again against the
// emulated chip over I2C.
func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			path := filepath.Join("..", "..", "..", "testdata", "pn532", sc.name+".frames")
			ctx := context.Background()
			if *update {
				chip := pn532test.New(sc.chip)
				chip.Put(echoCard{})
				rec := pn532test.Record(pn532.NewI2C(chip.I2C(), pn532.I2COptions{}))
				rd, err := pn532.New(ctx, rec, sc.opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := sc.run(ctx, rd, field{put: func() { chip.Put(echoCard{}) }, remove: chip.Remove, arm: chip.Arm}); err != nil {
					t.Fatal(err)
				}
				rd.Close()
				var b bytes.Buffer
				fmt.Fprintf(&b, "# %s\n# recorded by TestGolden -update against pn532test over I2C\n", sc.header)
				rec.Transcript().WriteTo(&b)
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (record it with -update)", err)
			}
			tr, err := pn532test.ParseTranscript(data)
			if err != nil {
				t.Fatal(err)
			}
			p := pn532test.Replay(tr)
			rd, err := pn532.New(ctx, p, sc.opts)
			if err != nil {
				t.Fatal(err)
			}
			nop := func() {}
			if err := sc.run(ctx, rd, field{put: nop, remove: nop, arm: func(...pn532test.Fault) {}}); err != nil {
				t.Fatal(err)
			}
			rd.Close()
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPlaybackStrict: a replay fails on a frame that differs from the
// recording, and on one left over.
func TestPlaybackStrict(t *testing.T) {
	tr, err := pn532test.ParseTranscript([]byte("# x\n> 0000ff02fed4022a00\n< 0000ff00ff00\n< timeout\n< damaged\n~ wakeup\n"))
	if err != nil || len(tr) != 5 {
		t.Fatalf("%v %v", tr, err)
	}
	p := pn532test.Replay(tr)
	if err := p.WriteFrame(context.Background(), []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}); err == nil {
		t.Fatal("wrong frame accepted")
	}
	if p.Close() == nil {
		t.Fatal("Close after a mismatch succeeded")
	}
	p = pn532test.Replay(tr)
	ctx := context.Background()
	if err := p.WriteFrame(ctx, tr[0].Frame); err != nil {
		t.Fatal(err)
	}
	if f, err := p.ReadFrame(ctx, 8); err != nil || f.Kind != pn532.KindACK {
		t.Fatalf("%v %v", f, err)
	}
	if _, err := p.ReadFrame(ctx, 8); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout replayed as %v", err)
	}
	if _, err := p.ReadFrame(ctx, 8); !errors.Is(err, pn532.ErrChecksum) {
		t.Fatalf("damaged frame replayed as %v", err)
	}
	if err := p.Close(); err == nil {
		t.Fatal("Close with the wake-up left over succeeded")
	}
	for _, bad := range []string{"> zz\n", "? 00\n", "<\n"} {
		if _, err := pn532test.ParseTranscript([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
