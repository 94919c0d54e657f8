package session

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrDecrypt is returned when a message does not authenticate under the
// expected key and counter: a wrong key, a tampered, replayed or reordered
// message.
var ErrDecrypt = errors.New("session: decrypt failed")

// ErrCounterExhausted is returned when a direction has used its counters 1
// to 2^32-2; the session must then end.
var ErrCounterExhausted = errors.New("session: message counter exhausted")

// Session encryption identifiers (ISO/IEC 18013-5 clause 9.1.1.5): the first
// 8 bytes of the IV name the sender.
var (
	readerIdentifier = [8]byte{0, 0, 0, 0, 0, 0, 0, 0}
	deviceIdentifier = [8]byte{0, 0, 0, 0, 0, 0, 0, 1}
)

// direction is one way of the session: AES-256-GCM under SKReader or
// SKDevice, IV = identifier ‖ 4-byte big-endian counter, counter from 1
// (ISO/IEC 18013-5 clause 9.1.1.5). No additional data; 16-byte tag appended.
type direction struct {
	aead    cipher.AEAD
	id      [8]byte
	counter uint32 // the counter of the next message
}

func newDirection(key []byte, id [8]byte) (*direction, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return &direction{aead: aead, id: id, counter: 1}, nil
}

func (d *direction) iv() []byte {
	var iv [12]byte
	copy(iv[:8], d.id[:])
	binary.BigEndian.PutUint32(iv[8:], d.counter)
	return iv[:]
}

// seal encrypts the next message and advances the counter.
func (d *direction) seal(plaintext []byte) ([]byte, error) {
	if d.counter == 0 || d.counter == math.MaxUint32 {
		return nil, ErrCounterExhausted
	}
	out := d.aead.Seal(nil, d.iv(), plaintext, nil)
	d.counter++
	return out, nil
}

// open decrypts the message expected next. The counter advances only on
// success, so a replayed or reordered message fails and leaves the state
// unchanged.
func (d *direction) open(ciphertext []byte) ([]byte, error) {
	if d.counter == 0 || d.counter == math.MaxUint32 {
		return nil, ErrCounterExhausted
	}
	out, err := d.aead.Open(nil, d.iv(), ciphertext, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	d.counter++
	return out, nil
}
