package model

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"unsafe"
)

// PrefixCache shares the KV pages of token prefixes between the sessions
// of one model and cache configuration, so that requests sharing a
// prompt (a system prompt, a document) compute it once.
//
// It is a radix tree whose edges are whole pages: each node holds the
// PageSize tokens of one page and the page itself (every layer's keys and
// values for those positions), under the node of the page before it. A
// session with SessionOptions.Prefix set registers each page it fills;
// a session that starts a prompt ([Session.Prefill] at position 0) first
// takes the longest chain of pages matching the prompt (all but its last
// token, whose logits it must compute) and evaluates only the rest.
//
// Pages are shared read-only: a node counts the sessions using its page,
// and a session that truncates into a shared page copies it before
// writing. Nodes no session uses are evicted least recently used first,
// leaves first, once the tree holds more than MaxBytes of pages. With a
// Dir (the cold tier), an evicted page is written there instead of being
// dropped, and read back when a prompt matches it again; the files, named
// by a hash of the model, the cache layout and the token prefix, persist
// across processes (lmc run --kv-offload). A PrefixCache is safe for
// concurrent use by several sessions.
//
// Prefix caching needs a cache without eviction policy (pages must hold
// every position). Pages are identified by their tokens alone: a session
// whose batches split a prompt differently computes the same keys up to
// float32 rounding.
type PrefixCache struct {
	mu      sync.Mutex
	opt     PrefixOptions
	model   *Model
	layout  [32]byte // hash of the model and cache layout
	desc    string   // the cache layout, for messages
	pageB   int
	P       int
	root    *prefixNode
	clock   int64
	bytes   int64 // pages held in RAM by the tree
	stats   PrefixStats
	scratch []byte
}

// PrefixOptions configures a PrefixCache.
type PrefixOptions struct {
	// MaxBytes bounds the RAM of the pages the tree holds (default 1
	// GiB). Pages that sessions use are never evicted, so the tree may
	// exceed it while they run.
	MaxBytes int64
	// Dir, when not empty, is the cold tier: a folder for pages evicted
	// from RAM (created if missing). Flush writes every page there.
	Dir string
}

// PrefixStats counts a PrefixCache's activity.
type PrefixStats struct {
	Lookups     int64 `json:"lookups"`      // prompts matched against the tree
	HitPages    int64 `json:"hit_pages"`    // pages reused (RAM or disk)
	HitTokens   int64 `json:"hit_tokens"`   // positions reused
	Inserted    int64 `json:"inserted"`     // pages added to the tree
	Shared      int64 `json:"shared"`       // pages a session swapped for an identical one already in the tree
	Evicted     int64 `json:"evicted"`      // pages dropped or moved to disk
	DiskWrites  int64 `json:"disk_writes"`  // pages written to Dir
	DiskReads   int64 `json:"disk_reads"`   // pages read back from Dir
	DiskErrors  int64 `json:"disk_errors"`  // unreadable or mismatched page files (ignored)
	Pages       int   `json:"pages"`        // pages in RAM now
	Bytes       int64 `json:"bytes"`        // their size
	ColdPages   int   `json:"cold_pages"`   // nodes whose page is on disk only
	SessionRefs int   `json:"session_refs"` // session holds on nodes now
}

// prefixNode is one page of the tree.
type prefixNode struct {
	parent   *prefixNode
	key      string   // the page's tokens, as bytes
	hash     [32]byte // chain hash: layout, parent's hash, tokens
	page     *kvPage  // nil: cold (on disk) or the root
	children map[string]*prefixNode
	refs     int
	lastUse  int64
	onDisk   bool
}

// ErrPageFormat is returned (wrapped) for a page file that is not a page
// of the expected model, layout and tokens.
var ErrPageFormat = errors.New("bad KV page file")

// NewPrefixCache returns an empty prefix cache.
func NewPrefixCache(o PrefixOptions) (*PrefixCache, error) {
	if o.MaxBytes < 0 {
		return nil, fmt.Errorf("model: prefix cache MaxBytes %d is negative", o.MaxBytes)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 30
	}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("model: prefix cache folder: %w", err)
		}
	}
	return &PrefixCache{opt: o, root: &prefixNode{children: map[string]*prefixNode{}}}, nil
}

// Stats returns the cache's counters.
func (pc *PrefixCache) Stats() PrefixStats {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	s := pc.stats
	s.Bytes = pc.bytes
	pc.walk(func(n *prefixNode) {
		if n.page != nil {
			s.Pages++
		} else {
			s.ColdPages++
		}
		s.SessionRefs += n.refs
	})
	return s
}

func (pc *PrefixCache) walk(fn func(n *prefixNode)) {
	var rec func(n *prefixNode)
	rec = func(n *prefixNode) {
		for _, c := range n.children {
			fn(c)
			rec(c)
		}
	}
	rec(pc.root)
}

// bind attaches a new session cache, checking that it has the layout of
// the pages already in the tree.
func (pc *PrefixCache) bind(m *Model, c *Cache) error {
	if c.L.opt.Policy != KVKeepAll {
		return fmt.Errorf("model: prefix caching cannot be combined with KV policy %v", c.L.opt.Policy)
	}
	desc := fmt.Sprintf("kv %v page %d group %d residual %d", c.Type(), c.P, c.G, c.R)
	if b := c.basis; b != nil {
		h := sha256.New()
		for _, u := range b.U {
			h.Write(f32bytes(u))
		}
		desc += fmt.Sprintf(" key basis rank %d %x", b.Rank, h.Sum(nil)[:8])
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.model != m || pc.desc != desc {
		h := sha256.New()
		h.Write(m.fingerprint())
		h.Write([]byte(desc))
		var layout [32]byte
		h.Sum(layout[:0])
		if pc.model != nil && layout != pc.layout {
			return fmt.Errorf("model: the prefix cache holds pages of another model or cache layout (it has %s)", pc.desc)
		}
		pc.model, pc.layout, pc.desc = m, layout, desc
		pc.pageB, pc.P = c.pageB, c.P
		pc.root.hash = layout
	}
	c.prefix = pc
	return nil
}

// fingerprint identifies a model's weights cheaply: its configuration,
// and each weight's name, type, shape and first and last 4 KiB.
func (m *Model) fingerprint() []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%+v|", m.Config)
	names := m.WeightNames()
	for _, n := range names {
		w := m.Weight(n)
		d := w.Data()
		fmt.Fprintf(h, "%s %v %d %d|", n, w.Type(), w.Rows(), w.Cols())
		h.Write(d[:min(len(d), 4096)])
		h.Write(d[max(0, len(d)-4096):])
	}
	for _, v := range [][]float32{m.outputNorm} {
		h.Write(f32bytes(v))
	}
	return h.Sum(nil)
}

func tokenKey(tokens []int32) string {
	return string(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(tokens))), 4*len(tokens)))
}

func chainHash(parent [32]byte, key string) [32]byte {
	h := sha256.New()
	h.Write(parent[:])
	h.Write([]byte(key))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// match returns the longest chain of pages whose tokens prefix tokens,
// taking a reference on each, reading cold pages back from disk.
func (pc *PrefixCache) match(tokens []int32) []*prefixNode {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.stats.Lookups++
	pc.clock++
	var path []*prefixNode
	n := pc.root
	for len(tokens) >= (len(path)+1)*pc.P {
		key := tokenKey(tokens[len(path)*pc.P : (len(path)+1)*pc.P])
		child := n.children[key]
		if child == nil && pc.opt.Dir != "" {
			child = &prefixNode{parent: n, key: key, hash: chainHash(n.hash, key), children: map[string]*prefixNode{}, onDisk: true}
			if !pc.load(child) {
				break
			}
			n.children[key] = child
		}
		if child == nil {
			break
		}
		if child.page == nil && !pc.load(child) {
			break
		}
		child.refs++
		child.lastUse = pc.clock
		path = append(path, child)
		n = child
	}
	pc.stats.HitPages += int64(len(path))
	pc.stats.HitTokens += int64(len(path) * pc.P)
	pc.evict()
	return path
}

// insert registers page (the session's page after parent's) with its
// tokens and returns the node now holding the page the session should
// use: an existing node's identical page, or its own. The session holds
// a reference on the node.
func (pc *PrefixCache) insert(parent *prefixNode, tokens []int32, page *kvPage) *prefixNode {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if parent == nil {
		parent = pc.root
	}
	pc.clock++
	key := tokenKey(tokens)
	child := parent.children[key]
	switch {
	case child == nil:
		child = &prefixNode{parent: parent, key: key, hash: chainHash(parent.hash, key), children: map[string]*prefixNode{}}
		parent.children[key] = child
		fallthrough
	case child.page == nil:
		child.page = page
		page.node = child
		pc.bytes += int64(len(page.data))
		pc.stats.Inserted++
	default:
		pc.stats.Shared++
	}
	child.refs++
	child.lastUse = pc.clock
	pc.evict()
	return child
}

// release drops a session's reference on n.
func (pc *PrefixCache) release(n *prefixNode) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if n.refs <= 0 {
		panic("model: prefix cache node released more often than taken")
	}
	n.refs--
	pc.clock++
	n.lastUse = pc.clock
	pc.evict()
}

// evict frees pages while the tree holds more than MaxBytes: the least
// recently used page that no session holds and that has no child in
// RAM. Without a Dir its node leaves the tree; with one, the page goes to
// disk and the node stays, cold.
func (pc *PrefixCache) evict() {
	for pc.bytes > pc.opt.MaxBytes {
		var victim *prefixNode
		pc.walk(func(n *prefixNode) {
			if n.page == nil || n.refs > 0 || (victim != nil && n.lastUse >= victim.lastUse) {
				return
			}
			for _, c := range n.children {
				if c.page != nil {
					return
				}
			}
			victim = n
		})
		if victim == nil {
			return
		}
		pc.drop(victim)
	}
}

func (pc *PrefixCache) drop(n *prefixNode) {
	if pc.opt.Dir != "" && !n.onDisk {
		if pc.store(n) == nil {
			n.onDisk = true
		}
	}
	pc.bytes -= int64(len(n.page.data))
	n.page.node = nil
	n.page = nil
	pc.stats.Evicted++
	if !n.onDisk && len(n.children) == 0 {
		delete(n.parent.children, n.key)
	}
}

// Flush writes every page in RAM to Dir (no-op without one), so that a
// later process finds them.
func (pc *PrefixCache) Flush() error {
	if pc.opt.Dir == "" {
		return nil
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	var err error
	pc.walk(func(n *prefixNode) {
		if n.page != nil && !n.onDisk && err == nil {
			if err = pc.store(n); err == nil {
				n.onDisk = true
			}
		}
	})
	return err
}

// Page files: "LMCKVPG1", the chain hash, the layout hash, u32 page size,
// u32 data bytes, the page's tokens (i32 each), the data, and the CRC-32
// (IEEE) of everything before it. All sizes are known from the layout, so
// a file of any other size is rejected before it is read.
const pageMagic = "LMCKVPG1"

func (pc *PrefixCache) pagePath(n *prefixNode) string {
	return filepath.Join(pc.opt.Dir, hex.EncodeToString(n.hash[:16])+".kvpage")
}

func (pc *PrefixCache) fileSize() int { return 8 + 32 + 32 + 4 + 4 + 4*pc.P + pc.pageB + 4 }

func (pc *PrefixCache) store(n *prefixNode) error {
	b := make([]byte, 0, pc.fileSize())
	b = append(b, pageMagic...)
	b = append(b, n.hash[:]...)
	b = append(b, pc.layout[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(pc.P))
	b = binary.LittleEndian.AppendUint32(b, uint32(pc.pageB))
	b = append(b, n.key...)
	b = append(b, n.page.data...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	path := pc.pagePath(n)
	tmp, err := os.CreateTemp(pc.opt.Dir, ".kvpage-*")
	if err == nil {
		_, err = tmp.Write(b)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		pc.stats.DiskErrors++
		return fmt.Errorf("model: prefix cache: writing %s: %w", path, err)
	}
	pc.stats.DiskWrites++
	return nil
}

// PageFormatError describes a page file that does not match.
type PageFormatError struct {
	Path, Field string
}

func (e *PageFormatError) Error() string {
	return fmt.Sprintf("model: KV page file %s: %s does not match", e.Path, e.Field)
}

func (e *PageFormatError) Unwrap() error { return ErrPageFormat }

// load reads n's page back from disk; false if absent or unusable.
func (pc *PrefixCache) load(n *prefixNode) bool {
	data, err := pc.readPage(pc.pagePath(n), n)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			pc.stats.DiskErrors++
		}
		return false
	}
	n.page = &kvPage{data: data, node: n}
	n.onDisk = true
	pc.bytes += int64(len(data))
	pc.stats.DiskReads++
	return true
}

func (pc *PrefixCache) readPage(path string, n *prefixNode) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != int64(pc.fileSize()) {
		return nil, &PageFormatError{path, fmt.Sprintf("size %d (want %d)", st.Size(), pc.fileSize())}
	}
	b := make([]byte, pc.fileSize())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	hdr := 8 + 32 + 32 + 8
	for _, c := range []struct {
		field string
		ok    bool
	}{
		{"magic", string(b[:8]) == pageMagic},
		{"checksum", crc32.ChecksumIEEE(body) == sum},
		{"prefix hash", string(b[8:40]) == string(n.hash[:])},
		{"model and layout hash", string(b[40:72]) == string(pc.layout[:])},
		{"page size", binary.LittleEndian.Uint32(b[72:]) == uint32(pc.P)},
		{"page bytes", binary.LittleEndian.Uint32(b[76:]) == uint32(pc.pageB)},
		{"tokens", string(b[hdr:hdr+4*pc.P]) == n.key},
	} {
		if !c.ok {
			return nil, &PageFormatError{path, c.field}
		}
	}
	return b[hdr+4*pc.P : hdr+4*pc.P+pc.pageB : hdr+4*pc.P+pc.pageB], nil
}

// Cached reports how many leading tokens of tokens the tree holds in
// RAM, in whole pages (for tools and tests).
func (pc *PrefixCache) Cached(tokens []int) int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	n, k := pc.root, 0
	t32 := toInt32(tokens)
	for len(t32) >= (k+1)*pc.P && pc.P > 0 {
		c := n.children[tokenKey(t32[k*pc.P:(k+1)*pc.P])]
		if c == nil || c.page == nil {
			break
		}
		n, k = c, k+1
	}
	return k * pc.P
}

func toInt32(t []int) []int32 {
	out := make([]int32, len(t))
	for i, v := range t {
		out[i] = int32(v)
	}
	return out
}

// releasePage drops the cache's hold on page i.
func (c *Cache) releasePage(i int) {
	if p := c.pages[i]; p != nil && p.node != nil && c.prefix != nil {
		c.prefix.release(p.node)
	}
	c.pages[i] = nil
	c.nshared = min(c.nshared, i)
}

// attach makes the cache, which must be empty, start with the pages of
// path (held by the caller's references).
func (c *Cache) attach(path []*prefixNode) int {
	n := len(path) * c.P
	for _, node := range path {
		c.pages = append(c.pages, node.page)
	}
	for i := range c.st {
		c.st[i].n, c.st[i].nq = n, n
	}
	c.npos = n
	c.nshared = len(path)
	c.stats.ReusedTokens += int64(n)
	return n
}

// register hands every page the session has completed since the last call
// to the prefix cache; hist holds the tokens of every position.
func (c *Cache) register(hist []int32) {
	complete := len(c.pages)
	for i := range c.st {
		complete = min(complete, c.st[i].nq/c.P)
	}
	for i := c.nshared; i < complete; i++ {
		var parent *prefixNode
		if i > 0 {
			parent = c.pages[i-1].node
		}
		node := c.prefix.insert(parent, hist[i*c.P:(i+1)*c.P], c.pages[i])
		c.pages[i] = node.page
	}
	c.nshared = max(c.nshared, complete)
}
