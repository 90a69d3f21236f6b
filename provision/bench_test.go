package provision_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// BenchmarkBatch50 pushes one bundle to each of 50 sensorcore appliances
// (embedded listeners on loopback, addresses unchanged) four ways, each with
// a fresh certificate per sensor so every run really applies:
//   - tapline: the batch runner on bundles already built (Session.Prepare);
//   - tapline-cli: the headless binary, `tapline-cli batch run site.csv`
//     from the inventory (offline check, bundles built in memory, push,
//     reports), with its peak memory;
//   - openssh-seq: a sequential OpenSSH loop, `scp` the bundle then `ssh
//     ... sensorcore apply`, sensor after sensor;
//   - openssh-par: the same per-sensor scp+ssh run 8 at a time by
//     `xargs -P 8`, the strongest alternative a shell user has.
//
// The OpenSSH loops only upload and apply; tapline also reads the status,
// confirms and verifies the served certificate over TLS. It reports each
// wall time and tapline's speed-up over both loops.
func BenchmarkBatch50(b *testing.B) {
	const n, parallel = 50, 8
	bin := needSensorcore(b)
	// It compares with OpenSSH's scp and ssh run by xargs.
	needs.Tool(b, "scp", "openssh-client")
	needs.Tool(b, "ssh", "openssh-client")
	needs.Tool(b, "xargs", "findutils")
	kit := fleettest.New(b, time.Now().UTC())
	keyFile, pub := clientKey(b)
	dir := b.TempDir()
	cli, err := fleettest.BuildTaplineCLI(dir)
	if err != nil {
		b.Fatal(err)
	}
	kh := filepath.Join(dir, "known_hosts")
	var khLines strings.Builder
	rows := make([]provision.Row, n)
	for i := 0; i < n; i++ {
		sshAddr := fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(b))
		console := sshdtest.FreePort(b)
		name := fmt.Sprintf("bench-%02d", i)
		app := fleettest.StartAppliance(b, bin, fleettest.ApplianceOptions{TrustRoot: kit.RootPub, SSHListen: sshAddr,
			ConsoleListen: fmt.Sprintf("127.0.0.1:%d", console), Hostname: name + ".plant.example", AuthorizedKey: pub})
		khLines.WriteString(app.KnownHostsLine(sshAddr))
		_, port, _ := strings.Cut(sshAddr, ":")
		p, _ := strconv.Atoi(port)
		rows[i] = provision.Row{Line: i + 2, Sensor: name, Address: "127.0.0.1", SSHPort: p, User: "provision", Auth: provision.AuthKey, KeyFile: keyFile,
			Interface: "eth0", NewIP: fmt.Sprintf("198.18.0.%d", 10+i), NewAddress: "127.0.0.1", NewMask: "24", NewHostname: name + ".plant.example",
			Chain: kit.ChainPEM, ConsolePort: console}
	}
	os.WriteFile(kh, []byte(khLines.String()), 0o600)
	sess := &provision.Session{KnownHosts: kh, Check: provision.CheckOptions{ActivationRoots: mustRoots(b, kit.RootPub)},
		PushOptions: provision.Options{VerifyTimeout: 10 * time.Second}}
	// fresh gives every sensor a new certificate (and activation file).
	fresh := func() {
		for i := range rows {
			f := kit.Sensor(b, rows[i].Sensor, rows[i].NewHostname, rows[i].NewIP)
			rows[i].Activation, rows[i].Cert, rows[i].Key = f.Activation, f.Cert, f.Key
		}
	}
	sshArgs := []string{"-i", keyFile, "-o", "UserKnownHostsFile=" + kh, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"}
	// One sensor as a shell user would do it: scp the bundle, ssh the apply.
	script := filepath.Join(dir, "push-one.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
# push-one.sh PORT FILE REMOTE: scp the bundle, then apply it over ssh.
set -e
scp -q `+strings.Join(sshArgs, " ")+` -P "$1" "$2" "provision@127.0.0.1:/$3"
out=$(ssh `+strings.Join(sshArgs, " ")+` -p "$1" provision@127.0.0.1 "sensorcore apply --json $3")
case "$out" in *'"ok":true'*) ;; *) echo "apply on port $1: $out" >&2; exit 1;; esac
`), 0o700)
	csvPath := filepath.Join(dir, "bench.csv")
	// Warm up, untimed: every sensor's first apply (its first generation,
	// the console's first certificate reload) and the page cache, so that
	// whichever way runs first is not charged for them.
	fresh()
	warm, err := sess.RunBatch(context.Background(), &provision.Inventory{Rows: rows}, provision.BatchOptions{Parallel: parallel, Retries: -1}, nil)
	if err != nil || !warm.AllDone() {
		b.Fatalf("warm-up: %v %+v", err, warm)
	}
	var tapline, taplineCLI, seq, par time.Duration
	var maxRSS int64
	b.ReportAllocs()
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		fresh()
		prepared := map[string]provision.Prepared{}
		jobs := make([]string, n)
		for i, r := range rows {
			pr, err := sess.Prepare(context.Background(), r)
			if err != nil {
				b.Fatal(err)
			}
			// The loops need the bundle as a file; tapline keeps it in memory.
			f := filepath.Join(dir, fmt.Sprintf("%s-%d.tapbundle", r.Sensor, it))
			os.WriteFile(f, pr.Bundle.Archive, 0o600)
			jobs[i] = fmt.Sprintf("%d %s %s", r.SSHPort, f, fmt.Sprintf("loop-%d-%s.tapbundle", it, r.Sensor))
			prepared[r.Sensor] = pr
		}
		inv := &provision.Inventory{Rows: rows}
		opts := provision.BatchOptions{Parallel: parallel, Retries: -1,
			Prepare: func(_ context.Context, r provision.Row) (provision.Prepared, error) {
				p := prepared[r.Sensor]
				p.Bundle.Archive = bytes.Clone(p.Bundle.Archive)
				return p, nil
			}}
		b.StartTimer()

		start := time.Now()
		rep, err := sess.RunBatch(context.Background(), inv, opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		tapline += time.Since(start)
		for _, r := range rep.Results {
			if r.Result.Outcome != provision.OutcomeDone || r.Result.Reverified {
				b.Fatalf("%s: %+v", r.Row.Sensor, r.Result)
			}
		}
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

		b.StopTimer()
		fresh()
		var csv strings.Builder
		csv.WriteString("sensor,address,ssh_port,ssh_user,auth,key_file,interface,new_ip,new_mask,new_hostname,new_address,activation,cert,key,chain,console_port\n")
		for _, r := range rows {
			fmt.Fprintf(&csv, "%s,%s,%d,%s,key,%s,eth0,%s,24,%s,127.0.0.1,%s,%s,%s,%s,%d\n", r.Sensor, r.Address, r.SSHPort, r.User, r.KeyFile,
				r.NewIP, r.NewHostname, r.Activation, r.Cert, r.Key, r.Chain, r.ConsolePort)
		}
		os.WriteFile(csvPath, []byte(csv.String()), 0o600)
		os.Remove(strings.TrimSuffix(csvPath, ".csv") + ".journal.jsonl")
		cmd := exec.Command(cli, "batch", "run", "--trust-root", kit.RootPub, "--known-hosts", kh, "--parallel", strconv.Itoa(parallel), "--retries", "0", csvPath)
		b.StartTimer()

		start = time.Now()
		out, err := cmd.CombinedOutput()
		taplineCLI += time.Since(start)
		if err != nil {
			b.Fatalf("tapline-cli batch run: %v\n%s", err, out)
		}
		maxRSS = max(maxRSS, maxRSSKiB(cmd.ProcessState))

		start = time.Now()
		for _, j := range jobs {
			if out, err := exec.Command("sh", append([]string{script}, strings.Fields(j)...)...).CombinedOutput(); err != nil {
				b.Fatalf("sequential loop: %v %s", err, out)
			}
		}
		seq += time.Since(start)

		b.StopTimer()
		for i := range jobs {
			jobs[i] = strings.Replace(jobs[i], "loop-", "par-", 1)
		}
		xargs := exec.Command("xargs", "-P", strconv.Itoa(parallel), "-L", "1", "sh", script)
		xargs.Stdin = strings.NewReader(strings.Join(jobs, "\n") + "\n")
		b.StartTimer()
		start = time.Now()
		if out, err := xargs.CombinedOutput(); err != nil {
			b.Fatalf("xargs -P %d loop: %v %s", parallel, err, out)
		}
		par += time.Since(start)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	tn, cn, sn, pn := per(tapline), per(taplineCLI), per(seq), per(par)
	b.ReportMetric(tn, "tapline-s/batch")
	b.ReportMetric(cn, "tapline-cli-s/batch")
	b.ReportMetric(float64(maxRSS)/1024, "tapline-cli-maxrss-MB")
	b.ReportMetric(sn, "openssh-seq-s/batch")
	b.ReportMetric(pn, "openssh-par8-s/batch")
	b.ReportMetric(sn/tn, "speedup-vs-seq-x")
	b.ReportMetric(pn/tn, "speedup-vs-par8-x")
	b.ReportMetric(pn/cn, "cli-speedup-vs-par8-x")
}

// BenchmarkUpload64MB uploads a 64 MB file to the real sshd on loopback
// with Upload (pkg/sftp concurrent writes) and with OpenSSH's scp, and
// reports both throughputs and their ratio.
func BenchmarkUpload64MB(b *testing.B) {
	s := sshdtest.Start(b, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	needs.Tool(b, "scp", "openssh-client") // to compare with
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
