package model

// prefixNode is a node of a PrefixCache's tree (defined with the cache).
type prefixNode struct{}

// PrefixCache shares pages between sessions.
type PrefixCache struct{}

// releasePage drops the cache's hold on page i.
func (c *Cache) releasePage(i int) {
	c.pages[i] = nil
}

func (pc *PrefixCache) bind(m *Model, c *Cache) error { return nil }
