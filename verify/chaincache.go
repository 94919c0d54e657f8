package verify

import (
	"container/list"
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// DefaultChainCacheSize is how many (DS certificate, IACA) pairs a trust
// store remembers as verified: far more document signers than a reader
// meets in a day.
const DefaultChainCacheSize = 1024

// chainCache remembers which DS certificates an IACA of the store has been
// seen to sign. The signature of a DS certificate by its IACA is the same
// for every response from that DS, and checking it is a third of the
// cryptography of a verification. Only the signature is cached: validity
// periods, profiles, doc type restrictions and revocation are evaluated at
// each verification. Only successes are cached, so a hostile wallet
// presenting fresh certificates cannot evict the good ones with junk (it
// only costs itself a signature check). Bounded (least recently used
// first out) and safe for concurrent use.
type chainCache struct {
	mu    sync.Mutex
	size  int // 0: disabled; set by newChainCache or SetChainCacheSize
	set   bool
	byKey map[[sha256.Size]byte]*list.Element
	order *list.List // front: most recently used; values are keys
}

// chainKey identifies a (DS certificate, IACA) pair by the hash of both
// DER encodings (DER is self-delimiting, so the concatenation is
// unambiguous).
func chainKey(ds, iaca *x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	h.Write(ds.Raw)
	h.Write(iaca.Raw)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (c *chainCache) limit() int {
	if !c.set {
		return DefaultChainCacheSize
	}
	return c.size
}

// verified reports whether iaca was seen to sign ds.
func (c *chainCache) verified(ds, iaca *x509.Certificate) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit() == 0 || c.byKey == nil {
		return false
	}
	e, ok := c.byKey[chainKey(ds, iaca)]
	if ok {
		c.order.MoveToFront(e)
	}
	return ok
}

// add remembers that iaca signed ds, dropping the least recently used pair
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
	k := chainKey(ds, iaca)
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byKey[k] = c.order.PushFront(k)
	for c.order.Len() > n {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.([sha256.Size]byte))
	}
}

// clear forgets everything (a trust change).
func (c *chainCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey, c.order = nil, nil
}

// len is the number of cached pairs.
func (c *chainCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}

// SetChainCacheSize bounds the store's cache of verified (DS certificate,
// IACA) signatures to n pairs; 0 turns it off. The default is
// DefaultChainCacheSize. It clears the cache.
func (s *TrustStore) SetChainCacheSize(n int) {
	s.cache.mu.Lock()
	s.cache.size, s.cache.set = max(n, 0), true
	s.cache.byKey, s.cache.order = nil, nil
	s.cache.mu.Unlock()
}
