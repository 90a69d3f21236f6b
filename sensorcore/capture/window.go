package capture

import (
	"os"
	"sync/atomic"
)

// A mapped capture is read through a window so its resident memory stays
// bounded whatever the file's size: the reader reports its offset every
// windowChunk bytes, pages more than a chunk behind it are released
// (clean file pages: the page cache keeps them and a late touch re-reads
// them), and the prefault goroutine maps pages at most windowAhead in
// front of it, so page faults leave the packet path without the whole file
// becoming resident.
const (
	windowChunk = 4 << 20  // a multiple of any page size
	windowAhead = 32 << 20 // prefaulted in front of the reader
)

// prefaultSink keeps prefault's loads from being optimised away.
var prefaultSink atomic.Uint32

type readWindow struct {
	data     []byte
	released int          // data[:released] has been released
	pos      atomic.Int64 // the reader's offset, published every chunk
	wake     chan struct{}
	quit     chan struct{}
	done     chan struct{}
}

// newWindow starts the prefault goroutine over data.
func newWindow(data []byte) *readWindow {
	w := &readWindow{data: data, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go w.prefault()
	return w
}

// prefault maps the pages ahead of the reader, a chunk at a time
// (populate, or else reading one byte per page), on its own goroutine:
// the page faults are taken there, on another core when one is free.
func (w *readWindow) prefault() {
	defer close(w.done)
	page := os.Getpagesize()
	var sum byte
	for off := 0; off < len(w.data); off += windowChunk {
		if pos := int(w.pos.Load()); off < pos {
			off = pos - pos%windowChunk // fallen behind the reader: never map again what it released
		}
		for int64(off) > w.pos.Load()+windowAhead {
			select {
			case <-w.wake:
			case <-w.quit:
				return
			}
		}
		select {
		case <-w.quit:
			return
		default:
		}
		b := w.data[off:min(off+windowChunk, len(w.data))]
		if populate(b) {
			continue
		}
		for p := 0; p < len(b); p += page {
			sum += b[p]
		}
	}
	prefaultSink.Add(uint32(sum))
}

// advance records that the reader reached off: pages more than a chunk
// behind are released, and the prefault goroutine may go on.
func (w *readWindow) advance(off int) {
	w.pos.Store(int64(off))
	if end := off - windowChunk; end-w.released >= windowChunk {
		end -= end % windowChunk // chunk-aligned, so page-aligned
		// From one chunk further back: the prefault goroutine may have
		// mapped it again if it read the offset just before it moved.
		release(w.data[max(0, w.released-windowChunk):end])
		w.released = end
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// stop ends the prefault goroutine and waits for it, so the mapping can
// be released after.
func (w *readWindow) stop() {
	close(w.quit)
	<-w.done
}
