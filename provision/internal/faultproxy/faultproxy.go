package faultproxy

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy forwards 127.0.0.1:port to a target address.
type Proxy struct {
	Addr   string // where clients connect
	l      net.Listener
	mu     sync.Mutex
	target string
	conns  map[*pair]struct{}
	cutAt  int64 // client→server bytes per connection; 0: never
	refuse bool
	wg     sync.WaitGroup
	// Up counts client→server bytes over all connections.
	Up atomic.Int64
}

type pair struct {
	client, server net.Conn
	once           sync.Once
}

func (p *pair) close() {
	p.once.Do(func() { p.client.Close(); p.server.Close() })
}

// New starts a proxy to target.
func New(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: l.Addr().String(), l: l, target: target, conns: map[*pair]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// CutAfter makes every later connection close after n bytes from the
// client (0 turns cutting off).
func (p *Proxy) CutAfter(n int64) { p.mu.Lock(); p.cutAt = n; p.mu.Unlock() }

// Refuse makes new connections close at once (true) or pass again (false).
func (p *Proxy) Refuse(on bool) { p.mu.Lock(); p.refuse = on; p.mu.Unlock() }

// Retarget sends later connections to another address.
func (p *Proxy) Retarget(addr string) { p.mu.Lock(); p.target = addr; p.mu.Unlock() }

// CutNow closes every live connection.
func (p *Proxy) CutNow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.close()
	}
}

// Close stops the proxy and cuts its connections.
func (p *Proxy) Close() error {
	err := p.l.Close()
	p.CutNow()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target, cut, refuse := p.target, p.cutAt, p.refuse
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		pr := &pair{client: c, server: s}
		p.mu.Lock()
		p.conns[pr] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			p.pump(pr, s, c, cut, true)
		}()
		go func() {
			defer p.wg.Done()
			p.pump(pr, c, s, 0, false)
		}()
	}
}

// pump copies src to dst; with limit > 0 it forwards exactly limit bytes
// and then cuts both sides.
func (p *Proxy) pump(pr *pair, dst, src net.Conn, limit int64, up bool) {
	defer func() {
		pr.close()
		p.mu.Lock()
		delete(p.conns, pr)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	var sent int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if limit > 0 && sent+int64(n) >= limit {
				chunk = buf[:limit-sent]
				dst.Write(chunk)
				if up {
					p.Up.Add(int64(len(chunk)))
				}
				return
			}
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
			sent += int64(n)
			if up {
				p.Up.Add(int64(n))
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}
