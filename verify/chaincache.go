package verify

import (
	"bytes"
	"container/list"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"sync"

	"github.com/idreader/idreader/internal/p256"
)

// DefaultChainCacheSize is how many DS certificates a trust store
// remembers as signed by one of its anchors: far more document signers than
// a reader meets in a day.
const DefaultChainCacheSize = 1024

// maxPreparedKeys bounds how many cached DS keys also keep a prepared
// P-256 key (about 136 KiB each, its table of 1,376 points): those of
// the most recently used certificates, 2.2 MiB at most.
const maxPreparedKeys = 16

// prepareAgainAfterUses is prepareAfterUses for a certificate whose prepared
// key was dropped to keep the bound: preparing it again pays off only if it
// is then used about as many times, so it must have come back that often.
const prepareAgainAfterUses = 16

// prepareAfterUses is how many verifications find a DS certificate in the
// cache before its key is prepared: preparing costs about eight ECDSA
// verifications and saves half of one every time after, so a DS seen once
// is not worth it.
const prepareAfterUses = 2

// chainCache remembers which DS certificates an IACA of the store has been
// seen to sign, with the DS certificate parsed. The signature of a DS
// certificate by its IACA is the same for every response from that DS, and
// checking it is a third of the cryptography of a verification; parsing the
// certificate again is a sixth of its allocations. Only the signature and
// the parse are cached: validity periods, profiles, doc type restrictions
// and revocation are evaluated at each verification. Only successes are
// cached, so a hostile wallet presenting fresh certificates cannot evict the
// good ones with junk (it only costs itself a signature check). Bounded
// (least recently used first out) and safe for concurrent use.
type chainCache struct {
	mu    sync.Mutex
	size  int // set by SetChainCacheSize; DefaultChainCacheSize until then
	set   bool
	byKey map[[sha256.Size]byte]*list.Element
	order *list.List // front: most recently used; values are *chainEntry
	// nPrepared counts the entries holding a prepared key.
	nPrepared int
}

// chainEntry is one DS certificate (parsed, with its subject as a string)
// and the anchor seen to sign it.
type chainEntry struct {
	key      [sha256.Size]byte
	ds, iaca *x509.Certificate
	subject  string
	// uses counts the lookups that found the entry since it was added or
	// its prepared key dropped (dropped); preparing is set once the key is
	// handed out to be prepared, and dsKey holds it when done.
	uses      int
	preparing bool
	dropped   bool
	dsKey     *p256.PreparedKey
}

func (c *chainCache) limit() int {
	if !c.set {
		return DefaultChainCacheSize
	}
	return c.size
}

// get returns the entry of the DS certificate with DER der, marking it
// used; the caller holds c.mu.
func (c *chainCache) get(der []byte) *chainEntry {
	if c.limit() == 0 || c.byKey == nil {
		return nil
	}
	e, ok := c.byKey[sha256.Sum256(der)]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*chainEntry)
}

// cachedDS is what the cache knows of a DS certificate.
type cachedDS struct {
	cert    *x509.Certificate
	subject string // cert.Subject.String()
	// key verifies the DS's signatures: the prepared key when there is one,
	// cert.PublicKey otherwise.
	key crypto.PublicKey
	// prepare is set when the caller should prepare the key now and hand it
	// to prepared.
	prepare *ecdsa.PublicKey
}

// certificate returns what the cache knows of the DS certificate of DER
// der when an anchor was seen to sign it, and false otherwise.
func (c *chainCache) certificate(der []byte) (cachedDS, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.get(der)
	if e == nil {
		return cachedDS{}, false
	}
	d := cachedDS{cert: e.ds, subject: e.subject, key: e.ds.PublicKey}
	e.uses++
	switch pub, ok := e.ds.PublicKey.(*ecdsa.PublicKey); {
	case e.dsKey != nil:
		d.key = e.dsKey
	case !e.preparing && e.uses >= e.prepareAfter() && ok && pub.Curve == elliptic.P256():
		e.preparing = true
		d.prepare = pub
	}
	return d, true
}

func (e *chainEntry) prepareAfter() int {
	if e.dropped {
		return prepareAgainAfterUses
	}
	return prepareAfterUses
}

// prepared keeps k, prepared from the key of the DS certificate of DER der,
// if the certificate is still cached; beyond maxPreparedKeys the prepared
// key of the least recently used certificate is dropped.
func (c *chainCache) prepared(der []byte, k *p256.PreparedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		return
	}
	el, ok := c.byKey[sha256.Sum256(der)]
	if !ok {
		return
	}
	e := el.Value.(*chainEntry)
	if e.dsKey != nil || k.PublicKey() != e.ds.PublicKey {
		return
	}
	e.dsKey = k
	c.nPrepared++
	for old := c.order.Back(); old != nil && c.nPrepared > maxPreparedKeys; old = old.Prev() {
		if oe := old.Value.(*chainEntry); oe.dsKey != nil && oe != e {
			// It may be prepared again once it has come back often.
			oe.dsKey, oe.preparing, oe.dropped, oe.uses = nil, false, true, 0
			c.nPrepared--
		}
	}
}

// verified reports whether iaca was seen to sign ds.
func (c *chainCache) verified(ds, iaca *x509.Certificate) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.get(ds.Raw)
	return e != nil && bytes.Equal(e.iaca.Raw, iaca.Raw)
}

// add remembers that iaca signed ds, dropping the least recently used entry
// when full.
func (c *chainCache) add(ds, iaca *x509.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.limit()
	if n == 0 {
		return
	}
	if c.byKey == nil {
		c.byKey = map[[sha256.Size]byte]*list.Element{}
		c.order = list.New()
	}
	k := sha256.Sum256(ds.Raw)
	if e, ok := c.byKey[k]; ok {
		e.Value.(*chainEntry).iaca = iaca
		c.order.MoveToFront(e)
		return
	}
	c.byKey[k] = c.order.PushFront(&chainEntry{key: k, ds: ds, iaca: iaca, subject: ds.Subject.String()})
	for c.order.Len() > n {
		old := c.order.Back()
		c.order.Remove(old)
		oe := old.Value.(*chainEntry)
		delete(c.byKey, oe.key)
		if oe.dsKey != nil {
			c.nPrepared--
		}
	}
}

// clear forgets everything (a trust change).
func (c *chainCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey, c.order, c.nPrepared = nil, nil, 0
}

// len is the number of cached DS certificates.
func (c *chainCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}

// SetChainCacheSize bounds the store's cache of DS certificates its anchors
// were seen to sign to n certificates; 0 turns it off. The default is
// DefaultChainCacheSize. It clears the cache.
func (s *TrustStore) SetChainCacheSize(n int) {
	s.cache.mu.Lock()
	s.cache.size, s.cache.set = max(n, 0), true
	s.cache.byKey, s.cache.order, s.cache.nPrepared = nil, nil, 0
	s.cache.mu.Unlock()
}
