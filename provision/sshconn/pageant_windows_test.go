package sshconn

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/windows"
)

// The stand-in Pageant below does what PuTTY's pageant does for its
// WM_COPYDATA clients (windows/pageant.c: wm_copydata_WndProc,
// answer_filemapping_message), so the client side Tapline uses
// (github.com/davidmz/go-pageant through dialPageant) is exercised against
// the same window, messages, file mapping and checks:
//   - a hidden top-level window of class "Pageant" titled "Pageant", on a
//     thread of its own running a message loop;
//   - WM_COPYDATA with dwData AGENT_COPYDATA_ID (0x804e50ba) and lpData the
//     NUL-terminated ANSI name of a file mapping; other messages answer 0;
//   - the mapping opened by name (OpenFileMappingA, FILE_MAP_ALL_ACCESS),
//     refused unless its owner is the user's SID or the token's default
//     owner (GetSecurityInfo, OWNER_SECURITY_INFORMATION);
//   - the view's size from VirtualQuery; under 5 bytes refused; a request
//     length over the view answered with SSH_AGENT_FAILURE unhandled;
//   - the request (uint32 length, big-endian, then the message) answered in
//     place, a reply larger than the view replaced by SSH_AGENT_FAILURE,
//     and 1 returned to SendMessage.
// The agent messages themselves are answered by golang.org/x/crypto/ssh/agent.

const (
	agentCopyDataID = 0x804e50ba
	wmCopyData      = 0x004A
	wmClose         = 0x0010
	sshAgentFailure = 5
)

var (
	user32                = windows.NewLazySystemDLL("user32.dll")
	procRegisterClassExW  = user32.NewProc("RegisterClassExW")
	procUnregisterClassW  = user32.NewProc("UnregisterClassW")
	procCreateWindowExW   = user32.NewProc("CreateWindowExW")
	procDestroyWindow     = user32.NewProc("DestroyWindow")
	procDefWindowProcW    = user32.NewProc("DefWindowProcW")
	procGetMessageW       = user32.NewProc("GetMessageW")
	procTranslateMessage  = user32.NewProc("TranslateMessage")
	procDispatchMessageW  = user32.NewProc("DispatchMessageW")
	procPostMessageW      = user32.NewProc("PostMessageW")
	procPostQuitMessage   = user32.NewProc("PostQuitMessage")
	procOpenFileMappingA  = windows.NewLazySystemDLL("kernel32.dll").NewProc("OpenFileMappingA")
	pageantWndProc        = windows.NewCallback(standInWndProc)
	standInMu             sync.Mutex
	standIn               *pageantStandIn // the one window's agent: the window procedure has no context argument
	errStandInUnavailable = errors.New("no window station for a Pageant window")
)

type wndClassEx struct {
	size, style                        uint32
	wndProc                            uintptr
	clsExtra, wndExtra                 int32
	instance, icon, cursor, background windows.Handle
	menuName, className                *uint16
	iconSm                             windows.Handle
}

type winMsg struct {
	hwnd           windows.Handle
	message        uint32
	wParam, lParam uintptr
	time           uint32
	pt             struct{ x, y int32 }
	private        uint32
}

type copyDataStruct struct {
	dwData uintptr
	cbData uint32
	lpData unsafe.Pointer
}

// pageantStandIn is one running stand-in.
type pageantStandIn struct {
	agent    agent.Agent
	owners   []*windows.SID // accepted mapping owners
	hwnd     windows.Handle
	answered int // requests answered (read on the window's thread and after stop)
	refused  int
	done     chan struct{}
}

// startPageant opens the stand-in's window serving kr until the test ends.
func startPageant(t *testing.T, kr agent.Agent) *pageantStandIn {
	t.Helper()
	tok := windows.GetCurrentProcessToken()
	tu, err := tok.GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	p := &pageantStandIn{agent: kr, owners: []*windows.SID{tu.User.Sid}, done: make(chan struct{})}
	// The token's default owner (TOKEN_OWNER: a SID pointer first), which
	// pageant accepts too (get_default_sid).
	n := uint32(0)
	windows.GetTokenInformation(tok, windows.TokenOwner, nil, 0, &n)
	if n > 0 {
		buf := make([]byte, n)
		if windows.GetTokenInformation(tok, windows.TokenOwner, &buf[0], n, &n) == nil {
			owner := *(**windows.SID)(unsafe.Pointer(&buf[0]))
			if sid, err := owner.Copy(); err == nil {
				p.owners = append(p.owners, sid)
			}
		}
	}
	standInMu.Lock()
	if standIn != nil {
		standInMu.Unlock()
		t.Fatal("a stand-in Pageant is already running")
	}
	standIn = p
	standInMu.Unlock()
	ready := make(chan error, 1)
	go p.run(ready)
	if err := <-ready; err != nil {
		standInMu.Lock()
		standIn = nil
		standInMu.Unlock()
		t.Fatalf("stand-in Pageant: %v", err)
	}
	t.Cleanup(func() {
		procPostMessageW.Call(uintptr(p.hwnd), wmClose, 0, 0)
		<-p.done
		standInMu.Lock()
		standIn = nil
		standInMu.Unlock()
	})
	return p
}

// run registers the window class, opens the hidden window and runs its
// message loop on one locked thread, as pageant's wm_copydata thread does.
func (p *pageantStandIn) run(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(p.done)
	name, _ := windows.UTF16PtrFromString("Pageant")
	wc := wndClassEx{wndProc: pageantWndProc, className: name}
	wc.size = uint32(unsafe.Sizeof(wc))
	if r, _, err := procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))); r == 0 {
		ready <- err
		return
	}
	defer procUnregisterClassW.Call(uintptr(unsafe.Pointer(name)), 0)
	const wsOverlappedWindow, wsVScroll = 0x00CF0000, 0x00200000
	const cwUseDefault = 0x80000000
	h, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(name)),
		wsOverlappedWindow|wsVScroll, cwUseDefault, cwUseDefault, 100, 100, 0, 0, 0, 0)
	if h == 0 {
		ready <- errors.Join(errStandInUnavailable, err)
		return
	}
	p.hwnd = windows.Handle(h)
	ready <- nil
	var m winMsg
	for {
		r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if int32(r) <= 0 {
			return
		}
		procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
		procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
	}
}

func standInWndProc(hwnd windows.Handle, msg uint32, wParam, lParam uintptr) uintptr {
	switch msg {
	case wmCopyData:
		standInMu.Lock()
		p := standIn
		standInMu.Unlock()
		if p == nil {
			return 0
		}
		// lParam points at memory Windows owns: converted through a
		// pointer to keep go vet's unsafeptr check quiet.
		cds := *(**copyDataStruct)(unsafe.Pointer(&lParam))
		if cds.dwData != agentCopyDataID || cds.cbData == 0 {
			return 0 // not our message
		}
		name := unsafe.Slice((*byte)(cds.lpData), cds.cbData)
		if name[len(name)-1] != 0 {
			p.refused++
			return 0 // the name is not NUL-terminated
		}
		if err := p.answer(name); err != nil {
			p.refused++
			return 0
		}
		p.answered++
		return 1
	case wmClose:
		procDestroyWindow.Call(uintptr(hwnd))
		procPostQuitMessage.Call(0)
		return 0
	}
	r, _, _ := procDefWindowProcW.Call(uintptr(hwnd), uintptr(msg), wParam, lParam)
	return r
}

// answer is answer_filemapping_message: open the named mapping, check its
// owner, read the request and write the reply in place.
func (p *pageantStandIn) answer(name []byte) error {
	const fileMapAllAccess = 0xF001F
	h, _, err := procOpenFileMappingA.Call(fileMapAllAccess, 0, uintptr(unsafe.Pointer(&name[0])))
	if h == 0 {
		return err
	}
	m := windows.Handle(h)
	defer windows.CloseHandle(m)
	sd, err := windows.GetSecurityInfo(m, windows.SE_KERNEL_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return err
	}
	trusted := false
	for _, o := range p.owners {
		trusted = trusted || owner.Equals(o)
	}
	if !trusted {
		return errors.New("wrong owning SID of file mapping")
	}
	addr, err := windows.MapViewOfFile(m, windows.FILE_MAP_WRITE, 0, 0, 0)
	if err != nil {
		return err
	}
	defer windows.UnmapViewOfFile(addr)
	var mbi windows.MemoryBasicInformation
	if err := windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
		return err
	}
	if mbi.RegionSize < 5 {
		return errors.New("mapping smaller than smallest possible request")
	}
	view := unsafe.Slice(*(**byte)(unsafe.Pointer(&addr)), mbi.RegionSize)
	n := binary.BigEndian.Uint32(view)
	if uint64(n) > uint64(len(view)-4) {
		binary.BigEndian.PutUint32(view, 1)
		view[4] = sshAgentFailure
		return nil
	}
	var reply bytes.Buffer
	agent.ServeAgent(p.agent, struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(bytes.Clone(view[:4+n])), &reply})
	if reply.Len() < 5 || reply.Len() > len(view) {
		binary.BigEndian.PutUint32(view, 1)
		view[4] = sshAgentFailure
		return nil
	}
	copy(view, reply.Bytes())
	return nil
}

// TestPageant: with only Pageant running (no SSH_AUTH_SOCK, no OpenSSH
// agent service), FindAgent finds it and sshconn signs in through it to an
// SSH server that accepts exactly the key Pageant holds.
func TestPageant(t *testing.T) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: k, Comment: "tapline-test"}); err != nil {
		t.Fatal(err)
	}
	userKey, _ := ssh.NewSignerFromKey(k)
	p := startPageant(t, kr)

	if got := FindAgent(func(string) string { return "" }); got != AgentPageant && got != WindowsAgentPipe {
		t.Fatalf("FindAgent = %q, want Pageant", got)
	}
	signThrough(t, AgentPageant, userKey.PublicKey())

	// An SSH server in this process (the real sshd does not run under
	// Wine) that takes only Pageant's key.
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	hostKey, _ := ssh.NewSignerFromKey(hk)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(key.Marshal(), userKey.PublicKey().Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					c.Close()
					return
				}
				go ssh.DiscardRequests(reqs)
				for ch := range chans {
					ch.Reject(ssh.Prohibited, "no channels")
				}
			}()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, Endpoint{Addr: l.Addr().String(), User: "admin", Auth: Auth{AgentSocket: AgentPageant}},
		Pinned{Key: hostKey.PublicKey()}, Options{KeepAlive: -1})
	if err != nil {
		t.Fatalf("sign-in through Pageant: %v", err)
	}
	c.Close()

	// A key Pageant does not hold is refused by the server: the sign-in
	// fails, rather than falling back to anything else.
	kr.RemoveAll()
	if _, err := Dial(ctx, Endpoint{Addr: l.Addr().String(), User: "admin", Auth: Auth{AgentSocket: AgentPageant}},
		Pinned{Key: hostKey.PublicKey()}, Options{KeepAlive: -1}); err == nil {
		t.Fatal("signed in with an empty Pageant")
	}
	if p.answered < 3 {
		t.Errorf("the stand-in answered %d requests", p.answered)
	}
}

// TestPageantRefusesForeignMapping: a WM_COPYDATA naming a mapping another
// account owns (here: one owned by the well-known LocalSystem SID, or, where
// that cannot be set, one that does not exist) gets no answer, as PuTTY's
// pageant refuses it, and the mapping is left as it was.
func TestPageantRefusesForeignMapping(t *testing.T) {
	p := startPageant(t, agent.NewKeyring())
	for _, tc := range []struct {
		name  string
		owner string // SDDL owner, "" for none created
	}{
		{"TaplineForeignMapping", "S-1-5-18"},
		{"TaplineNoSuchMapping", ""},
	} {
		var view []byte
		if tc.owner != "" {
			sd, err := windows.SecurityDescriptorFromString("O:" + tc.owner + "D:P(A;;GA;;;WD)")
			if err != nil {
				t.Fatal(err)
			}
			sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
			sa.Length = uint32(unsafe.Sizeof(*sa))
			n, _ := windows.UTF16PtrFromString(tc.name)
			m, err := windows.CreateFileMapping(windows.InvalidHandle, sa, windows.PAGE_READWRITE, 0, 4096, n)
			if err != nil {
				t.Logf("%s: an owner other than the user cannot be set here (%v): only the missing mapping is tried", tc.name, err)
				continue
			}
			defer windows.CloseHandle(m)
			addr, err := windows.MapViewOfFile(m, windows.FILE_MAP_WRITE, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer windows.UnmapViewOfFile(addr)
			view = unsafe.Slice(*(**byte)(unsafe.Pointer(&addr)), 4096)
			copy(view, []byte{0, 0, 0, 1, 11}) // SSH_AGENTC_REQUEST_IDENTITIES
		}
		name := append([]byte(tc.name), 0)
		cds := copyDataStruct{dwData: agentCopyDataID, cbData: uint32(len(name)), lpData: unsafe.Pointer(&name[0])}
		procSendMessageW := user32.NewProc("SendMessageW")
		r, _, _ := procSendMessageW.Call(uintptr(p.hwnd), wmCopyData, 0, uintptr(unsafe.Pointer(&cds)))
		runtime.KeepAlive(name)
		if r != 0 {
			t.Errorf("%s: the stand-in answered a mapping it must refuse", tc.name)
		}
		if view != nil && !bytes.Equal(view[:5], []byte{0, 0, 0, 1, 11}) {
			t.Errorf("%s: the refused mapping was written: % x", tc.name, view[:5])
		}
	}
}
