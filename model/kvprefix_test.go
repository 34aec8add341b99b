package model_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lmc-project/lmc/model"
)

func prefill(t *testing.T, s *model.Session, tokens []int) []float32 {
	t.Helper()
	lg, err := s.Prefill(tokens)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), lg...)
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1 + (from+i)%39
	}
	return out
}

// TestPrefixTree pins the radix tree on a tiny model with pages of 4
// positions: sharing (a second prompt with the same first 8 tokens reuses
// the same two pages), branching, reference counts protecting pages in
// use, LRU eviction of unused leaves beyond MaxBytes, the disk tier
// (evicted pages written, read back on a match, ignored when corrupt) and
// reuse across PrefixCache values (processes) through the folder.
func TestPrefixTree(t *testing.T) {
	m := openTiny(t, writeTiny(t, tinyCases[0]))
	opts := func(pc *model.PrefixCache) model.SessionOptions {
		return model.SessionOptions{Context: 32, KVOptions: model.KVOptions{PageSize: 4, Prefix: pc}}
	}
	ref := func(tokens []int) []float32 {
		s, _ := m.NewSessionWith(model.SessionOptions{Context: 32})
		return prefill(t, s, tokens)
	}
	probe, _ := m.NewSessionWith(opts(nil))
	pageB := probe.Cache().(*model.Cache).Bytes()
	prefill(t, probe, seq(0, 4))
	pageB = probe.Cache().(*model.Cache).Bytes() - pageB

	dir := t.TempDir()
	pc, err := model.NewPrefixCache(model.PrefixOptions{MaxBytes: 3 * pageB, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a := append(seq(0, 12), 5)                       // pages P0 P1 P2
	b := append(append(seq(0, 8), seq(20, 4)...), 6) // P0 P1 P2'
	s1, _ := m.NewSessionWith(opts(pc))
	prefill(t, s1, a)
	if st := pc.Stats(); st.Inserted != 3 || st.Pages != 3 || st.HitPages != 0 {
		t.Fatalf("after the first prompt: %+v, want 3 pages inserted, none reused", st)
	}
	s2, _ := m.NewSessionWith(opts(pc))
	lg := prefill(t, s2, b)
	c2 := s2.Cache().(*model.Cache)
	if r := c2.Stats().ReusedTokens; r != 8 {
		t.Fatalf("second prompt reused %d tokens, want 8", r)
	}
	if d := maxAbsDiff(lg, ref(b)); d > 1e-5 {
		t.Errorf("logits with reused pages differ by %.3g", d)
	}
	if n := c2.SharedPages(); n != 3 {
		t.Errorf("second session shares %d pages, want 3 (two reused, its own third registered)", n)
	}
	st := pc.Stats()
	if st.Pages != 4 || st.SessionRefs != 6 || st.Evicted != 0 {
		t.Fatalf("both sessions open: %+v; want 4 pages (over MaxBytes, all in use), 6 refs, nothing evicted", st)
	}
	// Closing the first session frees its own third page, the least
	// recently used leaf: it goes to disk.
	s1.Close()
	st = pc.Stats()
	if st.Pages != 3 || st.ColdPages != 1 || st.DiskWrites != 1 || st.SessionRefs != 3 {
		t.Fatalf("after closing the first session: %+v; want 3 pages, 1 cold, 1 write, 3 refs", st)
	}
	// A third prompt matching a's 12 tokens reads the page back.
	s3, _ := m.NewSessionWith(opts(pc))
	lg = prefill(t, s3, append(seq(0, 12), 9))
	if r := s3.Cache().(*model.Cache).Stats().ReusedTokens; r != 12 {
		t.Errorf("third prompt reused %d tokens, want 12 (one page from disk)", r)
	}
	if d := maxAbsDiff(lg, ref(append(seq(0, 12), 9))); d > 1e-5 {
		t.Errorf("logits with a page read from disk differ by %.3g", d)
	}
	if st := pc.Stats(); st.DiskReads != 1 {
		t.Errorf("disk reads %d, want 1", st.DiskReads)
	}
	s2.Close()
	s3.Close()
	if err := pc.Flush(); err != nil {
		t.Fatal(err)
	}
	// Another process: a new PrefixCache on the same folder.
	pc2, _ := model.NewPrefixCache(model.PrefixOptions{Dir: dir})
	s4, _ := m.NewSessionWith(opts(pc2))
	prefill(t, s4, b)
	if r := s4.Cache().(*model.Cache).Stats().ReusedTokens; r != 12 {
		t.Errorf("new prefix cache on the folder reused %d tokens, want 12", r)
	}
	s4.Close()
	// Corrupt every page file: the next process recomputes, counting
	// the errors.
	files, _ := filepath.Glob(filepath.Join(dir, "*.kvpage"))
	if len(files) != 4 {
		t.Fatalf("%d page files, want 4", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		data[len(data)/2] ^= 1
		os.WriteFile(f, data, 0o644)
	}
	pc3, _ := model.NewPrefixCache(model.PrefixOptions{Dir: dir})
	s5, _ := m.NewSessionWith(opts(pc3))
	prefill(t, s5, b)
	if r := s5.Cache().(*model.Cache).Stats().ReusedTokens; r != 0 || pc3.Stats().DiskErrors != 1 {
		t.Errorf("corrupt pages: reused %d tokens, %d disk errors; want 0 and 1", r, pc3.Stats().DiskErrors)
	}
	// A session with another cache layout cannot join.
	if _, err := m.NewSessionWith(model.SessionOptions{Context: 32, KV: model.KVF16, KVOptions: model.KVOptions{PageSize: 4, Prefix: pc3}}); err == nil {
		t.Error("an F16 session joined an F32 prefix cache")
	}
	if _, err := m.NewSessionWith(model.SessionOptions{Context: 32, KVOptions: model.KVOptions{Policy: model.KVTOVA, Budget: 8, Prefix: pc3}}); err == nil {
		t.Error("a session with an eviction policy joined a prefix cache")
	}
}

// TestPrefixTTFT is the prefix-caching must-show on books5M: a second
// request sharing a 400-token prefix computes at most a fifth of the
// tokens of the first (pages of 64: 384 reused, 36 computed), gives the
// same logits as a cold start, and is timed (logged; BenchmarkPrefixTTFT
// records the speed-up).
func TestPrefixTTFT(t *testing.T) {
	m, ids := bookTokens(t, 460)
	prefix := ids[:400]
	pc, _ := model.NewPrefixCache(model.PrefixOptions{})
	o := model.SessionOptions{Context: 512, KVOptions: model.KVOptions{Prefix: pc}}
	first := append(append([]int(nil), prefix...), ids[400:420]...)
	second := append(append([]int(nil), prefix...), ids[430:450]...)
	s1, _ := m.NewSessionWith(o)
	t0 := time.Now()
	prefill(t, s1, first)
	cold := time.Since(t0)
	s2, _ := m.NewSessionWith(o)
	t0 = time.Now()
	lg := prefill(t, s2, second)
	warm := time.Since(t0)
	reused := s2.Cache().(*model.Cache).Stats().ReusedTokens
	computed := len(second) - int(reused)
	if reused != 384 || 5*computed > len(second) {
		t.Errorf("second request reused %d tokens and computed %d of %d; want 384 reused, at most a fifth computed", reused, computed, len(second))
	}
	s3, _ := m.NewSessionWith(model.SessionOptions{Context: 512})
	if d := maxAbsDiff(lg, prefill(t, s3, second)); d > 1e-4 {
		t.Errorf("reused prefix: logits differ from a cold start by %.3g", d)
	}
	t.Logf("time to first token: cold %v, with the shared prefix %v (%.1f×)", cold, warm, cold.Seconds()/warm.Seconds())
}

// FuzzPageFile feeds arbitrary bytes as the page file a prompt's first
// page would be read from: the prefix cache must never panic, and must
// reuse the page only when the file is exactly the valid one.
func FuzzPageFile(f *testing.F) {
	m := openTiny(f, writeTiny(f, tinyCases[0]))
	prompt := append(seq(0, 4), 7)
	opts := func(pc *model.PrefixCache) model.SessionOptions {
		return model.SessionOptions{Context: 16, KVOptions: model.KVOptions{PageSize: 4, Prefix: pc}}
	}
	dir := f.TempDir()
	pc, _ := model.NewPrefixCache(model.PrefixOptions{Dir: dir})
	s, _ := m.NewSessionWith(opts(pc))
	if _, err := s.Prefill(prompt); err != nil {
		f.Fatal(err)
	}
	s.Close()
	if err := pc.Flush(); err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.kvpage"))
	if len(files) != 1 {
		f.Fatalf("%d page files", len(files))
	}
	valid, _ := os.ReadFile(files[0])
	name := filepath.Base(files[0])
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(append(append([]byte(nil), valid...), 0))
	bad := append([]byte(nil), valid...)
	bad[100] ^= 0x40
	f.Add(bad)
	f.Add([]byte("LMCKVPG1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		pc, _ := model.NewPrefixCache(model.PrefixOptions{Dir: d})
		s, err := m.NewSessionWith(opts(pc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Prefill(prompt); err != nil {
			t.Fatal(err)
		}
		reused := s.Cache().(*model.Cache).Stats().ReusedTokens
		if reused > 0 && string(data) != string(valid) {
			t.Fatalf("reused %d tokens from a page file that is not the valid one", reused)
		}
		if reused == 0 && string(data) == string(valid) {
			t.Fatal("the valid page file was not reused")
		}
		s.Close()
	})
}
