package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// The tapline binaries as users run them, built once per test binary: the
// headless one (-tags nogui, CGO_ENABLED=0, make build-cli) and the
// desktop one (cgo, Fyne; make build-gui).
var (
	binOnce          sync.Map // "cli"/"gui" -> *sync.Once
	binPath, binErrs sync.Map
	binDir           string
	binDirOnce       sync.Once
)

func buildTapline(t testing.TB, kind string) string {
	t.Helper()
	needs.Tool(t, "go", "golang")
	o, _ := binOnce.LoadOrStore(kind, &sync.Once{})
	o.(*sync.Once).Do(func() {
		binDirOnce.Do(func() { binDir, _ = os.MkdirTemp("", "tapline-cli-test-bin") })
		bin := filepath.Join(binDir, "tapline-"+kind)
		args := []string{"build", "-o", bin}
		env := os.Environ()
		if kind == "cli" {
			args = append(args, "-tags", "nogui")
			env = append(env, "CGO_ENABLED=0")
		}
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir, cmd.Env = needs.RepoRoot(t), env
		if out, err := cmd.CombinedOutput(); err != nil {
			binErrs.Store(kind, string(out)+err.Error())
			return
		}
		binPath.Store(kind, bin)
	})
	if e, ok := binErrs.Load(kind); ok {
		t.Fatalf("building tapline (%s): %s", kind, e)
	}
	p, _ := binPath.Load(kind)
	return p.(string)
}

// cliBinary is bin/tapline-cli as make build-cli makes it;
// TAPLINE_TEST_CLI names one built elsewhere instead (an older version, to
// see a test fail before a fix).
func cliBinary(t testing.TB) string {
	if p := os.Getenv("TAPLINE_TEST_CLI"); p != "" {
		return p
	}
	return buildTapline(t, "cli")
}

// guiBinary is bin/tapline as make build-gui makes it.
func guiBinary(t testing.TB) string { return buildTapline(t, "gui") }

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if demoCore != "" && demoCoreErr == nil {
		os.RemoveAll(filepath.Dir(demoCore))
	}
	os.Exit(code)
}
