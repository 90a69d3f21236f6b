package gui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
)

// tasks runs a screen's long work off the UI goroutine. Each task gets a
// context that Cancel ends; its result is handed to the UI through fyne.Do.
// Wait lets tests (and shutdown) wait for every task to finish.
type tasks struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	cancel context.CancelFunc
	busy   int
}

// run starts work in a goroutine and, when it returns, calls done with its
// result on the UI goroutine (fyne.DoAndWait, so Wait covers done too). A new run does not cancel older ones.
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
		fyne.DoAndWait(func() {
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
// result to the UI.
func (ts *tasks) Wait() { ts.wg.Wait() }

// Busy reports whether a task is running.
func (ts *tasks) Busy() bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.busy > 0
}
