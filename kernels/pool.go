package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The worker pool: long-lived goroutines that take chunks of a [Parallel]
// call from a shared queue. The calling goroutine runs the first chunk
// itself and then helps with queued chunks while it waits, so a Parallel
// call made from inside another one cannot deadlock.

var (
	threads   atomic.Int32 // 0 = runtime.GOMAXPROCS(0)
	workersMu sync.Mutex
	workers   int
	queue     = make(chan task, 1024)
)

type call struct {
	pending atomic.Int32
	done    chan struct{}
}

type task struct {
	fn     func(lo, hi int)
	lo, hi int
	c      *call
}

func (t task) run() {
	t.fn(t.lo, t.hi)
	if t.c.pending.Add(-1) == 0 {
		close(t.c.done)
	}
}

// SetThreads sets how many goroutines [Parallel] (and so every MatMul) uses,
// process-wide, and returns the previous setting. n ≤ 0 restores the
// default, runtime.GOMAXPROCS(0).
func SetThreads(n int) (prev int) {
	if n < 0 {
		n = 0
	}
	return int(threads.Swap(int32(n)))
}

// Threads returns the number of goroutines [Parallel] splits work across.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

func ensureWorkers(n int) {
	workersMu.Lock()
	for workers < n {
		workers++
		go worker()
	}
	workersMu.Unlock()
}

// spinLimit is how many times an idle worker, or a caller waiting for its
// chunks, checks for work (yielding in between) before it blocks. Blocking
// and waking a goroutine costs several microseconds, as much as a whole
// small matrix product, and decoding issues dozens of Parallel calls per
// token back to back, so workers stay awake for a few tens of
// microseconds after each chunk.
const spinLimit = 256

func worker() {
	for {
		t, ok := <-queue
		if !ok {
			return
		}
		t.run()
		for i := 0; i < spinLimit; i++ {
			select {
			case t := <-queue:
				t.run()
				i = 0
			default:
				runtime.Gosched()
			}
		}
	}
}

// Parallel calls fn on contiguous chunks [lo, hi) that cover [0, n), using
// up to [Threads] goroutines (the caller's included), and returns when all
// have finished. Every chunk boundary but n is a multiple of grain (grain
// < 1 counts as 1), so that kernels working on groups of grain items see
// the same groups whatever the thread count. With one thread, or n ≤ grain,
// fn(0, n) runs on the calling goroutine.
func Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	units := (n + grain - 1) / grain
	th := Threads()
	if th > units {
		th = units
	}
	if th <= 1 {
		fn(0, n)
		return
	}
	ensureWorkers(th - 1)
	bound := func(i int) int {
		b := (units * i / th) * grain
		if b > n {
			b = n
		}
		return b
	}
	c := &call{done: make(chan struct{})}
	c.pending.Store(int32(th - 1))
	for i := 1; i < th; i++ {
		queue <- task{fn: fn, lo: bound(i), hi: bound(i + 1), c: c}
	}
	fn(0, bound(1))
	for spins := 0; c.pending.Load() > 0; spins++ {
		select {
		case t := <-queue:
			t.run()
			continue
		default:
		}
		if spins < spinLimit {
			runtime.Gosched()
			continue
		}
		select {
		case t := <-queue:
			t.run()
		case <-c.done:
		}
	}
}
