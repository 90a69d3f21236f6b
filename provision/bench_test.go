package provision_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// BenchmarkBatch50 pushes one bundle to each of 50 sensorcore appliances
// (embedded listeners on loopback, addresses unchanged) with the batch
// runner, and does the same work with a plain sequential OpenSSH loop
// (`scp` the bundle, `ssh ... sensorcore apply`). It reports both wall
// times, the per-sensor cost and the speed-up.
func BenchmarkBatch50(b *testing.B) {
	const n = 50
	bin := needSensorcore(b)
	for _, tool := range []string{"scp", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("this benchmark compares with OpenSSH's %s; install openssh-client", tool)
		}
	}
	kit := fleettest.New(b, time.Now().UTC())
	keyFile, pub := clientKey(b)
	dir := b.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	var khLines strings.Builder
	prepared := make([]provision.Prepared, n)
	rows := make([]provision.Row, n)
	for i := 0; i < n; i++ {
		sshAddr := fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(b))
		console := sshdtest.FreePort(b)
		name := fmt.Sprintf("bench-%02d", i)
		app := fleettest.StartAppliance(b, bin, fleettest.ApplianceOptions{TrustRoot: kit.RootPub, SSHListen: sshAddr,
			ConsoleListen: fmt.Sprintf("127.0.0.1:%d", console), Hostname: name + ".plant.example", AuthorizedKey: pub})
		khLines.WriteString(app.KnownHostsLine(sshAddr))
		ip := fmt.Sprintf("198.18.0.%d", 10+i)
		f := kit.Sensor(b, name, name+".plant.example", ip)
		row := provision.Row{Line: i + 2, Sensor: name, Address: "127.0.0.1", User: "provision", Auth: provision.AuthKey, KeyFile: keyFile,
			Interface: "eth0", NewIP: ip, NewMask: "24", NewHostname: name + ".plant.example", Activation: f.Activation, Cert: f.Cert,
			Key: f.Key, Chain: kit.ChainPEM, ConsolePort: console}
		pr, err := (&provision.Preparer{O: provision.PrepareOptions{WorkDir: filepath.Join(dir, "work"), Check: provision.CheckOptions{ActivationRoots: mustRoots(b, kit.RootPub)}}}).Prepare(context.Background(), row)
		if err != nil {
			b.Fatal(err)
		}
		pr.Target.Addr, pr.Target.NewAddr = sshAddr, ""
		prepared[i], rows[i] = pr, row
	}
	os.WriteFile(kh, []byte(khLines.String()), 0o600)
	inv := &provision.Inventory{Rows: rows}
	byName := map[string]provision.Prepared{}
	for _, p := range prepared {
		byName[p.Target.Sensor] = p
	}
	opts := provision.BatchOptions{Parallel: 8, Retries: -1,
		Prepare: func(_ context.Context, r provision.Row) (provision.Prepared, error) { return byName[r.Sensor], nil },
		Push:    provision.Options{Trust: &sshconn.KnownHosts{File: kh}, VerifyTimeout: 10 * time.Second}}
	sshArgs := func(addr string) []string {
		_, port, _ := strings.Cut(addr, ":")
		return []string{"-i", keyFile, "-o", "UserKnownHostsFile=" + kh, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-P", port}
	}
	var tapline, loop time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		start := time.Now()
		rep, err := provision.RunBatch(context.Background(), inv, opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Result.Outcome != provision.OutcomeDone {
				b.Fatalf("%s: %+v", r.Row.Sensor, r.Result)
			}
		}
		tapline += time.Since(start)
		if it == 0 {
			sum := map[provision.Step]time.Duration{}
			for _, r := range rep.Results {
				for _, st := range r.Result.Steps {
					sum[st.Step] += st.Duration
				}
			}
			for st, d := range sum {
				b.Logf("step %-9s mean %v", st, (d / n).Round(time.Millisecond))
			}
		}

		start = time.Now()
		for i, p := range prepared {
			remote := fmt.Sprintf("loop-%d-%d.tapbundle", it, i)
			// scp (SFTP mode, OpenSSH >= 9) into the appliance's confined
			// SFTP server, as an engineer would by hand.
			put := exec.Command("scp", append(append([]string{"-q"}, sshArgs(p.Target.Addr)...), p.Bundle.Path, "provision@127.0.0.1:/"+remote)...)
			if out, err := put.CombinedOutput(); err != nil {
				b.Fatalf("scp: %v %s", err, out)
			}
			a := sshArgs(p.Target.Addr)
			a[len(a)-2] = "-p"
			a = append(a, "provision@127.0.0.1", "sensorcore apply --json "+remote)
			if out, err := exec.Command("ssh", a...).CombinedOutput(); err != nil || !strings.Contains(string(out), `"ok":true`) {
				b.Fatalf("ssh apply: %v %s", err, out)
			}
		}
		loop += time.Since(start)
	}
	b.StopTimer()
	tn := tapline.Seconds() / float64(b.N)
	ln := loop.Seconds() / float64(b.N)
	b.ReportMetric(tn, "tapline-s/batch")
	b.ReportMetric(tn/n*1000, "tapline-ms/sensor")
	b.ReportMetric(ln, "openssh-loop-s/batch")
	b.ReportMetric(ln/n*1000, "openssh-loop-ms/sensor")
	b.ReportMetric(ln/tn, "speedup-x")
}

// BenchmarkUpload64MB uploads a 64 MB file to the real sshd on loopback
// with Upload (pkg/sftp concurrent writes) and with OpenSSH's scp, and
// reports both throughputs and their ratio.
func BenchmarkUpload64MB(b *testing.B) {
	s := sshdtest.Start(b, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	if _, err := exec.LookPath("scp"); err != nil {
		b.Skip("this benchmark compares with OpenSSH's scp; install openssh-client")
	}
	local, _ := randomFile(b, b.TempDir(), 64<<20)
	dst := b.TempDir()
	kh := filepath.Join(b.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(s.KnownHostsLine()), 0o600)
	c, err := sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{KeyFile: s.ClientKey}},
		&sshconn.KnownHosts{File: kh}, sshconn.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	sc, err := provision.NewSFTP(c.Client)
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Close()
	var ours, theirs time.Duration
	b.SetBytes(64 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := provision.Upload(context.Background(), sc, local, dst, fmt.Sprintf("up-%d.bin", i), nil); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		start = time.Now()
		out, err := exec.Command("scp", "-q", "-i", s.ClientKey, "-o", "UserKnownHostsFile="+kh, "-o", "BatchMode=yes",
			"-P", fmt.Sprint(s.Port), local, fmt.Sprintf("%s@127.0.0.1:%s/scp-%d.bin", s.User, dst, i)).CombinedOutput()
		if err != nil {
			b.Fatalf("scp: %v %s", err, out)
		}
		theirs += time.Since(start)
		os.Remove(filepath.Join(dst, fmt.Sprintf("up-%d.bin", i)))
		os.Remove(filepath.Join(dst, fmt.Sprintf("scp-%d.bin", i)))
	}
	b.StopTimer()
	mb := float64(64*b.N) * 1.048576
	b.ReportMetric(mb/ours.Seconds(), "sftp-MB/s")
	b.ReportMetric(mb/theirs.Seconds(), "scp-MB/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "sftp/scp-throughput")
}
