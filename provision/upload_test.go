package provision_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/faultproxy"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

func randomFile(t testing.TB, dir string, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	p := filepath.Join(dir, "bundle.tapbundle")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, data
}

func dialPinned(t testing.TB, s *sshdtest.Server, addr string) (*sshconn.Client, error) {
	return sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: addr, User: s.User, Auth: sshconn.Auth{KeyFile: s.ClientKey}},
		sshconn.Pinned{Key: s.HostKeys[0]}, sshconn.Options{})
}

func TestUploadToOpenSSH(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	incoming := t.TempDir()
	for _, size := range []int{0, 1000, 3 << 20, provision.ReadBackLimit + 1} {
		local, data := randomFile(t, t.TempDir(), size)
		c, err := dialPinned(t, s, s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := provision.NewSFTP(c.Client)
		if err != nil {
			t.Fatal(err)
		}
		var last int64
		name := "s1-" + string(rune('a'+size%26)) + ".tapbundle"
		res, err := provision.Upload(context.Background(), sc, local, incoming, name, func(d, _ int64) { last = d })
		sc.Close()
		c.Close()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		got, err := os.ReadFile(filepath.Join(incoming, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: remote copy differs (%v)", size, err)
		}
		sum := sha256.Sum256(data)
		if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(size) || last != int64(size) {
			t.Fatalf("size %d: result %+v, progress %d", size, res, last)
		}
		if !res.Fsynced || !res.Posix {
			t.Fatalf("OpenSSH offers fsync and posix-rename; result %+v", res)
		}
		if res.ReadBack != (size <= provision.ReadBackLimit) {
			t.Fatalf("size %d: read back %v", size, res.ReadBack)
		}
		st, _ := os.Stat(filepath.Join(incoming, name))
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", st.Mode())
		}
	}
	if ents, _ := os.ReadDir(incoming); len(ents) != 4 {
		t.Fatalf("incoming holds %d entries, want the 4 bundles and no leftovers", len(ents))
	}
}

// A cut at any point of an upload leaves nothing apply would pick up: at
// most *.part files. A retry then completes.
func TestUploadCutAnywhere(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	p, err := faultproxy.New(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	local, data := randomFile(t, t.TempDir(), 2<<20)
	upload := func(dir string) error {
		c, err := dialPinned(t, s, p.Addr)
		if err != nil {
			return err
		}
		defer c.Close()
		sc, err := provision.NewSFTP(c.Client)
		if err != nil {
			return err
		}
		defer sc.Close()
		_, err = provision.Upload(context.Background(), sc, local, dir, "s1.tapbundle", nil)
		return err
	}
	// Measure a whole run's client→server bytes.
	if err := upload(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	total := p.Up.Load()
	for _, frac := range []float64{0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 0.995} {
		dir := t.TempDir()
		p.CutAfter(int64(float64(total) * frac))
		if err := upload(dir); err == nil {
			t.Fatalf("cut at %.3f: upload reported success", frac)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), provision.PartSuffix) {
				t.Fatalf("cut at %.3f left %s, which apply would pick up", frac, e.Name())
			}
		}
		p.CutAfter(0)
		if err := upload(dir); err != nil {
			t.Fatalf("retry after cut at %.3f: %v", frac, err)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "s1.tapbundle"))
		if !bytes.Equal(got, data) {
			t.Fatalf("retry after cut at %.3f: content differs", frac)
		}
	}
}
