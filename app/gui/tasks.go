package gui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
)

// uiQueue hands work to the UI goroutine. The zero (nil) queue is Fyne's:
// fyne.Do and fyne.DoAndWait. Tests use a channel that Wait drains on the
// test goroutine, which then plays the part of Fyne's main goroutine (the
// test driver would otherwise run the hand-off on the worker itself).
type uiQueue struct{ ch chan func() }

func newUIQueue() *uiQueue { return &uiQueue{ch: make(chan func())} }

// do runs f on the UI goroutine and waits for it.
func (q *uiQueue) do(f func()) {
	if q == nil {
		fyne.DoAndWait(f)
		return
	}
	done := make(chan struct{})
	q.ch <- func() { defer close(done); f() }
	<-done
}

// post runs f on the UI goroutine without waiting (with Fyne's queue).
func (q *uiQueue) post(f func()) {
	if q == nil {
		fyne.Do(f)
		return
	}
	q.do(f)
}

// tasks runs a screen's long work off the UI goroutine. Each task gets a
// context that Cancel ends; its result is handed to the UI goroutine.
// Wait lets tests (and shutdown) wait for every task to finish.
type tasks struct {
	ui     *uiQueue
	mu     sync.Mutex
	wg     sync.WaitGroup
	cancel context.CancelFunc
	busy   int
}

// run starts work in a goroutine and, when it returns, calls done with its
// result on the UI goroutine (waiting for it, so Wait covers done too).
func run[T any](ts *tasks, work func(ctx context.Context) T, done func(T)) {
	ctx, cancel := context.WithCancel(context.Background())
	ts.mu.Lock()
	prev := ts.cancel
	ts.cancel = func() {
		if prev != nil {
			prev()
		}
		cancel()
	}
	ts.busy++
	ts.mu.Unlock()
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		defer cancel()
		v := work(ctx)
		ts.ui.do(func() {
			ts.mu.Lock()
			ts.busy--
			ts.mu.Unlock()
			done(v)
		})
	}()
}

// Cancel cancels every running task.
func (ts *tasks) Cancel() {
	ts.mu.Lock()
	c := ts.cancel
	ts.cancel = nil
	ts.mu.Unlock()
	if c != nil {
		c()
	}
}

// Wait blocks until every task started so far has finished and handed its
// result to the UI. With a test queue it runs the hand-offs itself.
func (ts *tasks) Wait() {
	if ts.ui == nil {
		ts.wg.Wait()
		return
	}
	done := make(chan struct{})
	go func() { ts.wg.Wait(); close(done) }()
	for {
		select {
		case f := <-ts.ui.ch:
			f()
		case <-done:
			return
		}
	}
}

// Busy reports whether a task is running.
func (ts *tasks) Busy() bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.busy > 0
}
