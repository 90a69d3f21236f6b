package signin

import (
	"container/heap"
	"context"
	"runtime"
	"sync"
)

// Pool runs password checks on a bounded number of workers. A check that
// finds every worker busy waits in a queue ordered by priority (lower
// first), then by arrival; a full queue refuses with ErrBusy.
type Pool struct {
	mu       sync.Mutex
	free     int
	maxQueue int
	seq      uint64
	waiting  waitHeap
}

// DefaultWorkers is half the machine's CPUs, at least one: a sign-in flood
// leaves the rest to monitoring and provisioning.
func DefaultWorkers() int { return max(1, runtime.NumCPU()/2) }

// DefaultQueue is how many checks may wait for a worker.
const DefaultQueue = 64

// NewPool returns a pool of workers (DefaultWorkers when <= 0) with a queue
// of maxQueue waiting checks (DefaultQueue when <= 0).
func NewPool(workers, maxQueue int) *Pool {
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	if maxQueue <= 0 {
		maxQueue = DefaultQueue
	}
	return &Pool{free: workers, maxQueue: maxQueue}
}

// Do runs f on a worker once one is free for priority prio (0 first). It
// returns ctx's error, without running f, when ctx ends first, and
// ErrBusy when the queue is full.
func (p *Pool) Do(ctx context.Context, prio int, f func()) error {
	if err := p.acquire(ctx, prio); err != nil {
		return err
	}
	defer p.release()
	f()
	return nil
}

type waiter struct {
	prio  int
	seq   uint64
	ready chan struct{}
	index int // in the heap; -1 once handed a worker
}

func (p *Pool) acquire(ctx context.Context, prio int) error {
	p.mu.Lock()
	if p.free > 0 && len(p.waiting) == 0 {
		p.free--
		p.mu.Unlock()
		return nil
	}
	if len(p.waiting) >= p.maxQueue {
		p.mu.Unlock()
		return ErrBusy
	}
	p.seq++
	w := &waiter{prio: prio, seq: p.seq, ready: make(chan struct{})}
	heap.Push(&p.waiting, w)
	p.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		if w.index >= 0 {
			heap.Remove(&p.waiting, w.index)
			p.mu.Unlock()
			return ctx.Err()
		}
		p.mu.Unlock()
		p.release() // handed a worker as ctx ended: pass it on
		return ctx.Err()
	}
}

func (p *Pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiting) > 0 {
		w := heap.Pop(&p.waiting).(*waiter)
		close(w.ready)
		return
	}
	p.free++
}

// waitHeap orders waiters by priority, then arrival.
type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio < h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}
