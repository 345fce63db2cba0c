package enrich

import (
	"container/list"
	"sync"
)

// clientCache is a fixed-size least-recently-used cache of parse results.
// Real traffic repeats a few thousand user agents, and a parse costs hundreds
// of regular expressions, so nearly every batch is answered from here.
type clientCache struct {
	mu      sync.Mutex
	size    int
	entries map[string]*list.Element
	order   list.List // front is the most recently used
}

type cacheEntry struct {
	key    string
	client Client
}

func newClientCache(size int) *clientCache {
	return &clientCache{size: size, entries: make(map[string]*list.Element, size)}
}

// get looks key up. It takes the key as bytes so a caller can build it in a
// stack buffer: the map index on string(key) does not allocate.
func (c *clientCache) get(key []byte) (Client, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	element, ok := c.entries[string(key)]
	if !ok {
		return Client{}, false
	}
	c.order.MoveToFront(element)

	return element.Value.(*cacheEntry).client, true
}

// add stores client under key, evicting the least recently used entry when
// the cache is full.
func (c *clientCache) add(key []byte, client Client) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if element, ok := c.entries[string(key)]; ok {
		element.Value.(*cacheEntry).client = client
		c.order.MoveToFront(element)
		return
	}

	if c.order.Len() >= c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
	entry := &cacheEntry{key: string(key), client: client}
	c.entries[entry.key] = c.order.PushFront(entry)
}

// len reports how many results are cached.
func (c *clientCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.order.Len()
}
