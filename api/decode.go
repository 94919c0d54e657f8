package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/idreader/idreader/daemon"
)

// checkBody is the JSON body of POST /v1/checks.
type checkBody struct {
	Profile string          `json:"profile"`
	Timeout json.RawMessage `json:"timeout"`
	Reader  string          `json:"reader"`
}

// Limits of a check request.
const (
	maxCheckBody   = 4 << 10
	maxNameLen     = 128
	defaultTimeout = 30 * time.Second
	defaultMaxWait = 5 * time.Minute
)

var errBadRequest = errors.New("api: bad request")

// decodeCheckRequest reads the body of POST /v1/checks: {"profile": NAME,
// "timeout": D, "reader": NAME}, where D is a Go duration string ("30s",
// "1m30s") or a number of seconds, def when absent, and at most maxWait.
// Unknown fields, trailing data, an empty profile, names over 128 bytes or
// with control characters, and non-positive timeouts are refused with an
// error wrapping a bad-request sentinel. The reader of r is not limited
// here; the handler limits the body to 4 KiB.
func decodeCheckRequest(r io.Reader, def, maxWait time.Duration) (daemon.CheckRequest, error) {
	var b checkBody
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return daemon.CheckRequest{}, fmt.Errorf("%w: decoding JSON: %w", errBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return daemon.CheckRequest{}, fmt.Errorf("%w: data after the JSON object", errBadRequest)
	}
	if err := checkName("profile", b.Profile, true); err != nil {
		return daemon.CheckRequest{}, err
	}
	if err := checkName("reader", b.Reader, false); err != nil {
		return daemon.CheckRequest{}, err
	}
	d, err := parseTimeout(b.Timeout, def)
	if err != nil {
		return daemon.CheckRequest{}, err
	}
	if d > maxWait {
		return daemon.CheckRequest{}, fmt.Errorf("%w: timeout %v is over the limit %v", errBadRequest, d, maxWait)
	}
	return daemon.CheckRequest{Profile: b.Profile, Reader: b.Reader, Timeout: d}, nil
}

func checkName(field, s string, required bool) error {
	if s == "" {
		if required {
			return fmt.Errorf("%w: %s is required", errBadRequest, field)
		}
		return nil
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%w: %s is longer than %d bytes", errBadRequest, field, maxNameLen)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", errBadRequest, field)
		}
	}
	return nil
}

func parseTimeout(raw json.RawMessage, def time.Duration) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return def, nil
	}
	var d time.Duration
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("%w: timeout: %v", errBadRequest, err)
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%w: timeout: %v", errBadRequest, err)
		}
		d = v
	default:
		secs, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return 0, fmt.Errorf("%w: timeout is neither a duration string nor a number of seconds", errBadRequest)
		}
		if secs <= 0 || secs > float64(1<<31) {
			return 0, fmt.Errorf("%w: timeout must be positive", errBadRequest)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: timeout must be positive", errBadRequest)
	}
	return d, nil
}
