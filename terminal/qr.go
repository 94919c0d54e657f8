package terminal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// engageQR reads the DeviceEngagement from the QR text (ISO/IEC 18013-5
// clause 8.2.2.3), takes the QR handover (null, clause 9.1.5.1) and picks a
// BLE retrieval method of the engagement.
func (tp *tap) engageQR(ctx context.Context) error {
	de, err := mdoc.ParseQR(tp.qr)
	if err != nil {
		return fmt.Errorf("reading qr engagement: %w", err)
	}
	tp.de = de
	tp.sessHandover = session.QRHandover()
	tp.route, err = choose(tp.cfg.preference(false), engagementOffers(de))
	return err
}

// MaxQRLine is the longest scanner line QRScanner considers; longer lines
// are dropped as noise. A DeviceEngagement with BLE options is about 100
// bytes, so its QR text is under 200 characters.
const MaxQRLine = 4096

// QRScanner reads the text of QR codes from a line-oriented barcode scanner:
// a USB keyboard-wedge scanner typing into a tty or stdin, or a serial
// scanner (/dev/ttyACM0, /dev/ttyUSB0) sending one code per line. Lines end
// with LF, CR or CR LF. Lines that hold no valid mdoc: URI (other barcodes,
// a stray keypress, a truncated scan) are skipped.
//
// The caller opens the device and sets its line discipline (for a serial
// scanner, raw mode at its baud rate, e.g. with stty); closing the reader is
// the way to stop a read that is blocked.
type QRScanner struct {
	r     *bufio.Reader
	once  sync.Once
	lines chan string
	done  chan struct{}
	err   error // set before done is closed

	closer io.Closer
}

// NewQRScanner returns a scanner reading lines from r. If r is an
// io.Closer, Close closes it.
func NewQRScanner(r io.Reader) *QRScanner {
	s := &QRScanner{r: bufio.NewReaderSize(r, 512), lines: make(chan string), done: make(chan struct{})}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	return s
}

// OpenQRScanner opens a scanner device read-only: a serial scanner's tty
// (/dev/ttyACM0), a tty a keyboard-wedge scanner types into, or "-" for
// standard input (not closed by Close).
func OpenQRScanner(path string) (*QRScanner, error) {
	if path == "-" {
		return NewQRScanner(struct{ io.Reader }{os.Stdin}), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("terminal: opening qr scanner: %w", err)
	}
	return NewQRScanner(f), nil
}

// Close closes the underlying reader when it is an io.Closer, which also
// ends a Next blocked on it.
func (s *QRScanner) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// Next returns the next scanned mdoc: URI, as ParseQRLine extracts it. It
// returns ctx's error when ctx ends first (a line read meanwhile is kept for
// the next call), and the reader's error (io.EOF at the end of the input)
// once the input is exhausted.
func (s *QRScanner) Next(ctx context.Context) (string, error) {
	s.once.Do(func() { go s.readLines() })
	for {
		select {
		case line := <-s.lines:
			if uri, ok := ParseQRLine(line); ok {
				return uri, nil
			}
		case <-s.done:
			// Lines sent before done was closed have all been taken: the
			// reader blocks on each send.
			return "", s.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// NextScan returns the next scanned line that holds the mdoc: scheme (any
// case), cut as ParseQRLine cuts it but without checking that the rest
// decodes: a damaged or foreign mdoc: code is returned too, so that the
// caller can report it (TapQR rejects it as malformed). Lines without the
// scheme (other barcodes, stray keypresses) are skipped. Errors are as for
// Next.
func (s *QRScanner) NextScan(ctx context.Context) (string, error) {
	s.once.Do(func() { go s.readLines() })
	for {
		select {
		case line := <-s.lines:
			if text, ok := cutQRLine(line); ok {
				return text, nil
			}
		case <-s.done:
			return "", s.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// readLines feeds s.lines until the reader fails.
func (s *QRScanner) readLines() {
	var line []byte
	long := false
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			if len(line) > 0 && !long {
				s.lines <- string(line)
			}
			if errors.Is(err, io.EOF) {
				err = io.EOF
			} else {
				err = fmt.Errorf("terminal: reading qr scanner: %w", err)
			}
			s.err = err
			close(s.done)
			return
		}
		if b == '\n' || b == '\r' {
			if len(line) > 0 && !long {
				s.lines <- string(line)
			}
			line, long = line[:0], false
			continue
		}
		if long {
			continue
		}
		if len(line) >= MaxQRLine {
			long = true
			continue
		}
		line = append(line, b)
	}
}

// ParseQRLine extracts the QR device engagement from one scanned line:
// "mdoc:" (any case, ISO/IEC 18013-5 clause 8.2.2.3) followed by base64url,
// possibly after a prefix the scanner adds (an AIM symbology identifier such
// as "]Q1") and before trailing whitespace or a suffix. It reports false
// unless the text decodes to a well-formed DeviceEngagement.
func ParseQRLine(line string) (string, bool) {
	uri, ok := cutQRLine(line)
	if !ok || len(uri) == len(mdoc.QRScheme) {
		return "", false
	}
	if _, err := mdoc.ParseQR(uri); err != nil {
		return "", false
	}
	return uri, true
}

// cutQRLine cuts the mdoc: URI out of a scanned line: the scheme and the
// base64url characters (and padding) that follow it. It reports false when
// the line has no scheme; the text after the scheme may be empty.
func cutQRLine(line string) (string, bool) {
	i := indexASCIIFold(line, mdoc.QRScheme)
	if i < 0 {
		return "", false
	}
	rest := line[i+len(mdoc.QRScheme):]
	n := 0
	for n < len(rest) && isBase64URL(rest[n]) {
		n++
	}
	for n < len(rest) && rest[n] == '=' {
		n++
	}
	return mdoc.QRScheme + rest[:n], true
}

// indexASCIIFold is strings.Index ignoring ASCII case, byte by byte (the
// line may hold bytes that are not UTF-8; sub is lowercase ASCII).
func indexASCIIFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
