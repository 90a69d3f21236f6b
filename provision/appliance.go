package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// The appliance contract (docs/formats.md, "the contract between the
// appliance and the push engine"): remote commands over SSH exec, each
// printing one JSON object for --json; exit 0 ok, 1 refused, 2 usage.

// Finding is one apply finding as the appliance reports it.
type Finding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
}

// Status is `sensorcore status --json`.
type Status struct {
	SensorName string `json:"sensor_name"`
	// SensorNameSource: "config" (binding), "activation" (name or id must
	// stay), "host" (never named); empty from older appliances.
	SensorNameSource    string          `json:"sensor_name_source"`
	SensorID            string          `json:"sensor_id"`
	Version             string          `json:"version"`
	Generation          int             `json:"generation"`
	PendingConfirmation bool            `json:"pending_confirmation"`
	RollbackDeadline    *time.Time      `json:"rollback_deadline"`
	LastRollbackReason  string          `json:"last_rollback_reason"`
	Activation          json.RawMessage `json:"activation,omitempty"`
	Certificate         struct {
		FingerprintSHA256 string `json:"fingerprint_sha256"`
		Subject           string `json:"subject"`
		NotAfter          string `json:"not_after"`
		SelfSigned        bool   `json:"self_signed"`
		Name              string `json:"name"` // the bundle's cert_name
	} `json:"certificate"`
	Network     json.RawMessage `json:"network,omitempty"`
	FreeBytes   int64           `json:"free_bytes"`
	IncomingDir string          `json:"incoming_dir"`
	// Devices and Uplink are present only while the daemon monitors, and
	// only with an uplink configured, respectively.
	Devices *StatusDevices `json:"devices,omitempty"`
	Uplink  *StatusUplink  `json:"uplink,omitempty"`
}

// StatusDevices is the devices the sensor's monitor discovered against the
// activation file's licensed device count (status --json "devices").
type StatusDevices struct {
	Discovered int    `json:"discovered"`
	Licensed   int    `json:"licensed"` // 0 when not activated
	Plan       string `json:"plan,omitempty"`
}

// Over reports whether more devices were discovered than licensed.
func (d *StatusDevices) Over() bool { return d != nil && d.Licensed > 0 && d.Discovered > d.Licensed }

// StatusUplink is the sensor's site stream as it sees it (status --json
// "uplink").
type StatusUplink struct {
	Connected bool   `json:"connected"`
	Server    string `json:"server,omitempty"`
	Outbox    int    `json:"outbox"`  // messages waiting
	Dropped   uint64 `json:"dropped"` // operations the full outbox dropped since the sensor started
	Error     string `json:"error,omitempty"`
}

// RunsUplink reports whether the sensor runs a site uplink.
func (s Status) RunsUplink() bool { return s.Uplink != nil }

// ApplyResult is `sensorcore apply --json PATH`.
type ApplyResult struct {
	OK                  bool            `json:"ok"`
	Generation          int             `json:"generation"`
	PreviousGeneration  int             `json:"previous_generation"`
	CertFingerprint     string          `json:"certificate_fingerprint_sha256"`
	Activation          json.RawMessage `json:"activation,omitempty"`
	NetworkChanged      bool            `json:"network_changed"`
	ConfirmationPending bool            `json:"confirmation_pending"`
	RollbackDeadline    *time.Time      `json:"rollback_deadline"`
	Findings            []Finding       `json:"findings"`
	// ConsoleReloaded: the daemon's console served the new certificate
	// before apply answered; ConsoleNote says why not (older appliances
	// send neither).
	ConsoleReloaded bool   `json:"console_reloaded"`
	ConsoleNote     string `json:"console_note,omitempty"`
	Code            string `json:"code,omitempty"`
	Error           string `json:"error"`
}

// ConfirmResult is `sensorcore confirm --json`; the appliance prints at least ok
// and error, and the generation it confirmed.
type ConfirmResult struct {
	OK         bool   `json:"ok"`
	Generation int    `json:"generation"`
	Error      string `json:"error"`
}

// Health is GET /api/v1/health on the console: open without sign-in, it
// says only that the console is up.
type Health struct {
	Status string `json:"status"`
}

// Where Status.SensorName comes from (Status.SensorNameSource).
const (
	NameFromConfig     = "config"     // config.json names the sensor: binding
	NameFromActivation = "activation" // the activated identity: keep its name or its id
	NameFromHost       = "host"       // never named: the host name, any bundle names it
)

// ReadStatus runs `sensorcore status --json` on an open connection: the
// sensor's name, id, version, generation and live settings, read without
// changing anything. core is the remote command ("" for sensorcore).
func ReadStatus(ctx context.Context, c *ssh.Client, core string) (Status, error) {
	if core == "" {
		core = "sensorcore"
	}
	var st Status
	err := runJSON(ctx, c, core, &st, "status", "--json")
	return st, err
}

// Validation is `sensorcore validate --json`: the validation after setup
// (docs/formats.md, "validate").
type Validation struct {
	OK         bool              `json:"ok"`
	Verdict    string            `json:"verdict"`
	SensorName string            `json:"sensor_name"`
	Generation int               `json:"generation"`
	Backend    string            `json:"network_backend"`
	At         time.Time         `json:"at"`
	Checks     []ValidationCheck `json:"checks"`
}

// ValidationCheck is one check of a validation.
type ValidationCheck struct {
	Check   string          `json:"check"` // sanity, gateway, dns, ntp, capture
	Target  string          `json:"target,omitempty"`
	Status  string          `json:"status"` // ok, warning, failed, not_configured, not_applied
	Detail  string          `json:"detail"`
	Capture *ValidationPort `json:"capture,omitempty"`
}

// ValidationPort is a monitoring port's capture health over the last minute.
type ValidationPort struct {
	Interface        string   `json:"interface"`
	Packets          uint64   `json:"packets"`
	Drops            uint64   `json:"drops"`
	PacketsPerSecond float64  `json:"packets_per_second"`
	OTProtocols      []string `json:"ot_protocols"`
	Error            string   `json:"error,omitempty"`
}

// Problems are the checks that failed or warn, worst first.
func (v *Validation) Problems() []ValidationCheck {
	if v == nil {
		return nil
	}
	var failed, warned []ValidationCheck
	for _, c := range v.Checks {
		switch c.Status {
		case "failed":
			failed = append(failed, c)
		case "warning":
			warned = append(warned, c)
		}
	}
	return append(failed, warned...)
}

// Summary is the validation in one line: "validated", or its verdict and
// the worst problem ("1 problem(s): gateway 192.0.2.1: no answer ...").
func (v *Validation) Summary() string {
	if v == nil {
		return "not validated"
	}
	p := v.Problems()
	if len(p) == 0 {
		return v.Verdict
	}
	what := p[0].Check
	if p[0].Target != "" {
		what += " " + p[0].Target
	}
	return v.Verdict + ": " + what + ": " + p[0].Detail
}

// RemoteError says a remote sensorcore command refused (exit 1) or failed.
type RemoteError struct {
	Command string
	Exit    int    // -1 when the session broke before an exit status
	Message string // the JSON "error" field or stderr's last line
	Err     error  // transport error, if any
}

func (e *RemoteError) Error() string {
	if e.Exit < 0 {
		return fmt.Sprintf("provision: remote %q: connection lost: %v", e.Command, e.Err)
	}
	return fmt.Sprintf("provision: remote %q exited %d: %s", e.Command, e.Exit, e.Message)
}

func (e *RemoteError) Unwrap() error { return e.Err }

var safeArg = regexp.MustCompile(`^[A-Za-z0-9._:/=-]+$`)

// runJSON runs "sensorcore ARGS..." and decodes its stdout into v. Exit 1
// with a decodable object still fills v and returns a *RemoteError. When ctx
// ends first the session is closed (a *RemoteError with Exit -1).
func runJSON(ctx context.Context, c *ssh.Client, core string, v any, args ...string) error {
	for _, a := range args {
		if !safeArg.MatchString(a) {
			return fmt.Errorf("provision: refusing remote argument %q", a)
		}
	}
	cmd := core + " " + strings.Join(args, " ")
	sess, err := c.NewSession()
	if err != nil {
		return &RemoteError{Command: cmd, Exit: -1, Err: err}
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	err = sess.Run(cmd)
	exit := 0
	if err != nil {
		var ee *ssh.ExitError
		if !errors.As(err, &ee) {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%v)", err, context.Cause(ctx))
			}
			return &RemoteError{Command: cmd, Exit: -1, Err: err}
		}
		exit = ee.ExitStatus()
	}
	decodeErr := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), v)
	if exit == 0 && decodeErr == nil {
		return nil
	}
	msg := lastLine(stderr.String())
	if decodeErr == nil {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(stdout.Bytes(), &e)
		if e.Error != "" {
			msg = e.Error
		}
	} else if exit == 0 {
		msg = "unreadable JSON on stdout: " + decodeErr.Error()
		exit = 2
	}
	return &RemoteError{Command: cmd, Exit: exit, Message: msg}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
