// Package desktop starts Tapline's desktop app on the real Fyne driver. It is
// the only package that imports fyne.io/fyne/v2/app (and so needs cgo and the
// X11/GL headers); the screens live in app/gui and test without cgo.
package desktop

import (
	"bytes"
	"crypto/ed25519"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"fyne.io/fyne/v2/app"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/app/gui"
	"github.com/tapline/tapline/sensorcore/activation"
)

// Run opens the main window and blocks until it is closed. args are the
// start-up flags (tapline --help-app lists them); started is when the process
// began, for the first-frame figure.
func Run(args []string, started time.Time) int {
	fs := flag.NewFlagSet("tapline", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	firstFrame := fs.Bool("first-frame", false, "print the time from process start to the first frame on stderr")
	quit := fs.Bool("quit-after-first-frame", false, "exit once the first frame is shown (with --first-frame, for benchmarks)")
	inventory := fs.String("inventory", "", "open this inventory CSV in the Fleet screen")
	screen := fs.String("screen", "", "the screen to show first: Setup, Fleet, Certificates, Known hosts or Settings")
	filesDir := fs.String("files", "", "folder for the local CA and reports (default: the app's storage)")
	knownHosts := fs.String("known-hosts", "", "known_hosts file pushes trust (default: known_hosts in the files folder)")
	trustRoot := fs.String("trust-root", "", "LAB/DEMO ONLY: activation root public key to trust instead of the production root")
	demoDir := fs.String("demo", "", "open the app on the demo fleet running in this folder (tapline demo)")
	shots := fs.String("screenshots", "", "with --demo: walk every screen, save a PNG of each into this folder, then quit")
	fs.Bool("help-app", false, "list these start-up flags")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.Lookup("help-app").Value.String() == "true" {
		fmt.Fprintln(os.Stderr, "usage: tapline [start-up flags]   (the desktop app; 'tapline help' lists the commands)")
		fs.PrintDefaults()
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "tapline: unexpected argument %q after the start-up flags; commands come first (tapline help)\n", fs.Arg(0))
		return 2
	}
	if *screen != "" && !knownScreen(*screen) {
		fmt.Fprintf(os.Stderr, "tapline: --screen %q: choose %s\n", *screen, strings.Join(gui.ScreenNames(), ", "))
		return 2
	}
	if msg := NoDisplay(runtime.GOOS, os.Getenv); msg != "" {
		fmt.Fprintln(os.Stderr, "tapline:", msg)
		return 2
	}
	env := gui.Env{Inventory: *inventory, FilesDir: *filesDir, KnownHosts: *knownHosts}
	if *demoDir != "" {
		f, err := demo.Load(*demoDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tapline:", err)
			return 2
		}
		p := f.Preset()
		env.Preset, env.Inventory, env.FilesDir, env.KnownHosts = &p, p.Inventory, p.FilesDir, p.KnownHosts
		*trustRoot = p.TrustRoot
	}
	if *trustRoot != "" {
		k, err := activation.ReadPublicKey(*trustRoot)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tapline: --trust-root %s: %v\n", filepath.Base(*trustRoot), err)
			return 2
		}
		env.ActivationRoots = []ed25519.PublicKey{k}
	}
	a := app.NewWithID(gui.AppID)
	m := gui.NewMainWindow(a, env)
	if *screen != "" {
		m.ShowScreen(*screen)
	}
	painted := make(chan struct{})
	m.OnFirstPaint(func() {
		if *firstFrame {
			fmt.Fprintf(os.Stderr, "first frame after %d ms\n", time.Since(started).Milliseconds())
		}
		close(painted)
	})
	if *firstFrame && *quit {
		go func() {
			<-painted
			time.Sleep(50 * time.Millisecond) // let the frame reach the screen
			// Exit directly: the measurement is done and nothing needs saving,
			// and a quit racing a pointer event can crash glfw under Xvfb.
			os.Exit(0)
		}()
	}
	if *shots != "" {
		go func() {
			<-painted
			if err := m.Tour(func(name string) error { return saveShot(filepath.Join(*shots, name+".png")) }); err != nil {
				fmt.Fprintln(os.Stderr, "tapline:", err)
				os.Exit(1)
			}
			os.Exit(0) // every picture is saved; see --quit-after-first-frame
		}()
	}
	m.Window.ShowAndRun()
	m.Wait()
	return 0
}

// NoDisplay says why the desktop app cannot open a window on goos with
// this environment, or "" when it can: on Linux and the BSDs it needs
// DISPLAY (X11) or WAYLAND_DISPLAY, or the driver panics.
func NoDisplay(goos string, getenv func(string) string) string {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
	default:
		return ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return "no display: the desktop app needs X11 or Wayland, and neither DISPLAY nor WAYLAND_DISPLAY is set. " +
		"Use the commands instead ('tapline help'; 'make run' provisions the demo fleet headless), or start it under Xvfb."
}

func knownScreen(name string) bool {
	for _, n := range gui.ScreenNames() {
		if n == name {
			return true
		}
	}
	return false
}

// saveShot saves the X screen (the app's window on a bare Xvfb) as a PNG with
// ImageMagick's import once the picture is settled: two captures in a row
// the same, so the last change is painted even on a loaded machine (a fixed
// pause once caught the page before). Reading back OpenGL's front buffer
// gives black frames under Xvfb, so the picture is taken the way a user
// would see it: from the X server.
func saveShot(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var last []byte
	for i := 0; i < 20; i++ {
		time.Sleep(400 * time.Millisecond)
		out, err := exec.Command("import", "-window", "root", path).CombinedOutput()
		if err != nil {
			return fmt.Errorf("import (ImageMagick) for %s: %v: %s", filepath.Base(path), err, out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if last != nil && bytes.Equal(b, last) {
			return nil
		}
		last = b
	}
	return nil // still changing (a spinner): the last picture
}
