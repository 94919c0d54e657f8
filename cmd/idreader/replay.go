package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/idreader/idreader/reader/apdulog"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

const replayUsage = `usage: idreader replay [--trust PATH ...] [--now RFC3339] [--json] DIR

Verifies a tap recorded with 'idreader read --record DIR' offline and prints
the same report as 'idreader verify': the DeviceResponse against the trust
anchors, the SessionTranscript and the reader's ephemeral key. Then it runs
the recorded APDU transcript through the terminal again, byte for byte (the
recorded key, request and handover randomness), and checks that it reaches
the same verdict and elements.

  --trust PATH  IACA certificate (PEM, DER, hex) or a directory of them
                (default: DIR/iaca.pem, the anchor that matched when recording;
                a third party should use its own)
  --now RFC3339 verification time (default: when the tap was recorded)
  --json        print one JSON object

Exit status: 0 accept, 1 reject, 2 usage, unreadable recording, or a
transcript that does not replay to the same result.
`

// runReplay implements `idreader replay`.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", replayUsage, stdout, stderr)
	var trust stringList
	fs.Var(&trust, "trust", "")
	nowStr := fs.String("now", "", "")
	asJSON := fs.Bool("json", false, "")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, replayUsage)
				return exitOK
			}
			return fs.usageErr("%v", err)
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		positional, args = append(positional, args[0]), args[1:]
	}
	if len(positional) != 1 {
		return fs.usageErr("exactly one DIR is required")
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "idreader replay: %v\n", err)
		return exitUsage
	}
	rec, err := readRecording(positional[0])
	if err != nil {
		return fail(err)
	}
	now := rec.meta.RecordedAt
	if *nowStr != "" {
		if now, err = time.Parse(time.RFC3339Nano, *nowStr); err != nil {
			return fs.usageErr("--now: %v", err)
		}
	}
	if now.IsZero() {
		return fail(errors.New("the recording has no time; give --now"))
	}
	var store *verify.TrustStore
	switch {
	case len(trust) > 0:
		if store, err = verify.LoadTrustStore(trust...); err != nil {
			return fail(err)
		}
	case rec.iaca != nil:
		store = verify.NewTrustStore(rec.iaca)
	default:
		return fail(errors.New("the recording has no iaca.pem; give --trust"))
	}

	res, _ := verify.Verify(rec.evidence.DeviceResponse, verify.Options{
		Trust: store, Now: now,
		SessionTranscript: rec.evidence.SessionTranscript,
		ReaderKey:         rec.evidence.ReaderKey,
	})
	rep := res.Report()
	if err := replayTranscript(ctx, rec, store, now, rep); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "idreader replay: %d APDUs replayed through the terminal: same verdict and elements\n", len(rec.transcript))
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(err)
		}
	} else {
		printSummary(stdout, res, &rep)
	}
	if rep.Verdict != verify.VerdictAccept {
		return exitReject
	}
	return exitOK
}

// replayTranscript runs the recorded APDUs through the terminal with the
// recorded key, request and randomness, strictly in order, and compares its
// report with want.
func replayTranscript(ctx context.Context, rec *recording, store *verify.TrustStore, now time.Time, want verify.Report) error {
	cfg, err := terminal.ReplayConfig(terminal.Config{
		Trust: store, Now: func() time.Time { return now }, Limits: rec.meta.Limits.limits(),
	}, &rec.evidence)
	if err != nil {
		return err
	}
	p := apdulog.NewPlayer(rec.transcript)
	out, err := terminal.Tap(ctx, p, cfg)
	if err != nil {
		return fmt.Errorf("replaying the APDU transcript: %w", err)
	}
	if err := p.Close(); err != nil {
		return fmt.Errorf("replaying the APDU transcript: %w", err)
	}
	got, err := json.Marshal(out.Result.Report())
	if err != nil {
		return err
	}
	exp, err := json.Marshal(want)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, exp) {
		return errors.New("replaying the APDU transcript: the terminal reached another report than the recorded response")
	}
	return nil
}
