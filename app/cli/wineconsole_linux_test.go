package cli

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPassphrasePromptWindowsConsole runs the Windows CLI (tapline-cli.exe)
// under Wine on a terminal, as cmd.exe and PowerShell run it on a console:
// it asks for an encrypted key's passphrase through the Windows console
// API (echo off), reads it, and opens the key; the passphrase shows nowhere.
// tools/wine-test.sh builds the binary and names it in TAPLINE_WINE_CLI.
func TestPassphrasePromptWindowsConsole(t *testing.T) {
	exe, wine := os.Getenv("TAPLINE_WINE_CLI"), os.Getenv("TAPLINE_WINE")
	if exe == "" || wine == "" {
		t.Skip("runs from tools/wine-test.sh (make wine-test), which builds tapline-cli.exe and names Wine")
	}
	pass, err := os.ReadFile("testdata/certs/pass.txt")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(pass))
	master, slave := openPTY(t)
	cmd := exec.Command(wine, exe, "certs", "inspect", `..\..\examples\certs\sensor-02-expired.key`)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var shown bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(2 * time.Minute)
	typed := false
	for time.Now().Before(deadline) {
		master.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _ := master.Read(buf)
		shown.Write(buf[:n])
		if !typed && strings.Contains(shown.String(), "Passphrase for ") {
			time.Sleep(300 * time.Millisecond) // the console has turned echo off
			master.Write([]byte(secret + "\r"))
			typed = true
		}
		if strings.Contains(shown.String(), "spki sha256:") {
			break
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tapline-cli.exe: %v\n%q", err, shown.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tapline-cli.exe did not finish:\n%q", shown.String())
	}
	out := shown.String()
	if !typed || !strings.Contains(out, "encrypted private key") || !strings.Contains(out, "spki sha256:") {
		t.Fatalf("the key was not opened after the prompt:\n%q", out)
	}
	if strings.Contains(out, secret) {
		t.Fatalf("the console echoed the passphrase:\n%q", out)
	}
}
