package verify

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// DefaultChainCacheSize is how many DS certificates a trust store
// remembers as signed by one of its anchors: far more document signers than
// a reader meets in a day.
const DefaultChainCacheSize = 1024

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
}

// chainEntry is one DS certificate (parsed, with its subject as a string)
// and the anchor seen to sign it.
type chainEntry struct {
	key      [sha256.Size]byte
	ds, iaca *x509.Certificate
	subject  string
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

// certificate returns the parsed DS certificate of DER der and its
// subject (ds.Subject.String()) when an anchor was seen to sign it, nil
// otherwise.
func (c *chainCache) certificate(der []byte) (*x509.Certificate, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.get(der); e != nil {
		return e.ds, e.subject
	}
	return nil, ""
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
		delete(c.byKey, old.Value.(*chainEntry).key)
	}
}

// clear forgets everything (a trust change).
func (c *chainCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey, c.order = nil, nil
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
	s.cache.byKey, s.cache.order = nil, nil
	s.cache.mu.Unlock()
}
