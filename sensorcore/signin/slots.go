package signin

import (
	"sync"
	"time"
)

// Slots counts connections per source address against two caps: Total in
// all and PerSource from one address. A refusal is noted through Note at
// most every 10 seconds, with how many there were, so a flood cannot
// flood the log too.
type Slots struct {
	Total, PerSource int
	Note             func(refused int, last Source)

	mu       sync.Mutex
	open     int
	bySource map[Source]int
	refused  int
	notedAt  time.Time
}

// Take counts one more connection from src, or refuses it (false) when a
// cap is reached.
func (s *Slots) Take(src Source) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySource == nil {
		s.bySource = map[Source]int{}
	}
	if s.open >= s.Total || s.bySource[src] >= s.PerSource {
		s.refused++
		if now := time.Now(); now.Sub(s.notedAt) >= 10*time.Second {
			if s.Note != nil {
				s.Note(s.refused, src)
			}
			s.refused, s.notedAt = 0, now
		}
		return false
	}
	s.open++
	s.bySource[src]++
	return true
}

// Release gives back a connection Take counted.
func (s *Slots) Release(src Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if s.bySource[src]--; s.bySource[src] <= 0 {
		delete(s.bySource, src)
	}
}
