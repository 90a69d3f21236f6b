package console

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapline/tapline/internal/safefile"
)

// UserNames are the console's accounts, the privileged users of the field
// (an older image's support account and a newer one's admin).
var UserNames = []string{"admin", "support"}

// IsUser reports whether name is one of the console's accounts.
func IsUser(name string) bool { return slices.Contains(UserNames, name) }

// User is one console account as stored.
type User struct {
	Hash       string `json:"hash"`
	MustChange bool   `json:"must_change"`
	// LockedUntil is the hard lock, the last resort after failed sign-ins
	// from many addresses: it ends by itself, or with
	// `sensorcore console unlock USER`.
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// SessionEpoch changes to end every session of the user (a new
	// password, a reset); sessions carry the epoch they began in.
	SessionEpoch int `json:"session_epoch,omitempty"`
	// ThrottleEpoch changes to make the daemon forget its throttling of the
	// user (an unlock, a reset).
	ThrottleEpoch int `json:"throttle_epoch,omitempty"`
}

// Users is the console's account file (etc/sensorcore/console-users.json,
// 0600). The daemon and the `sensorcore console` commands share it: every
// change is made under a lock on the file's .lock companion and written
// atomically, and readers reload it when it changed on disk.
type Users struct {
	mu    sync.Mutex
	path  string
	cost  int
	stamp fileStamp
	users map[string]*User
}

type usersFile struct {
	Users map[string]*User `json:"users"`
}

// Errors from the account file.
var (
	ErrNoSuchUser = errors.New("console: no such console account: use admin or support")
)

// WeakPasswordError says which rule a new password breaks.
type WeakPasswordError struct{ Reason string }

func (e *WeakPasswordError) Error() string { return "console: password " + e.Reason }

// CheckPassword enforces the rule: at least 8 characters with upper case,
// lower case, a digit and a symbol.
func CheckPassword(p string) error {
	var up, low, dig, sym bool
	for _, r := range p {
		switch {
		case unicode.IsUpper(r):
			up = true
		case unicode.IsLower(r):
			low = true
		case unicode.IsDigit(r):
			dig = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			sym = true
		}
	}
	switch {
	case len([]rune(p)) < 8:
		return &WeakPasswordError{"needs at least 8 characters"}
	case !up:
		return &WeakPasswordError{"needs an upper-case letter"}
	case !low:
		return &WeakPasswordError{"needs a lower-case letter"}
	case !dig:
		return &WeakPasswordError{"needs a digit"}
	case !sym:
		return &WeakPasswordError{"needs a symbol"}
	case len(p) > 72:
		return &WeakPasswordError{"is longer than 72 bytes"}
	}
	return nil
}

// LoadUsers reads the account file; at first start it creates every user
// with a random initial password that must be changed at first sign-in,
// written to initialPath (0600) for the installer to read. cost is the
// bcrypt cost for new hashes (0: bcrypt.DefaultCost; tests use MinCost).
func LoadUsers(path, initialPath string, cost int) (*Users, error) {
	u, err := OpenUsers(path, cost)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var lines []string
	for _, n := range UserNames {
		pw := randomPassword()
		h, err := bcrypt.GenerateFromPassword([]byte(pw), u.cost)
		if err != nil {
			return nil, err
		}
		u.users[n] = &User{Hash: string(h), MustChange: true}
		lines = append(lines, n+" "+pw)
	}
	if err := os.MkdirAll(filepath.Dir(initialPath), 0o700); err != nil {
		return nil, err
	}
	if err := safefile.WriteFile(initialPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return u, u.update(func(m map[string]*User) error {
		for n, usr := range u.users {
			if m[n] == nil {
				m[n] = usr
			}
		}
		return nil
	})
}

// OpenUsers reads an existing account file (the `sensorcore console`
// commands); a missing one is an error wrapping os.ErrNotExist, and the
// Users returned with it is empty, ready for its first update.
func OpenUsers(path string, cost int) (*Users, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	u := &Users{path: path, cost: cost, users: map[string]*User{}}
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.reload(); err != nil {
		return u, err
	}
	return u, nil
}

// randomPassword is 16 characters from an alphabet without look-alikes,
// in four groups: about 92 bits.
func randomPassword() string {
	const alpha = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
	out := make([]byte, 0, 19)
	for i := 0; len(out) < 19; {
		var b [32]byte
		rand.Read(b[:])
		for _, c := range b {
			if int(c) >= 256-256%len(alpha) { // no modulo bias
				continue
			}
			if i > 0 && i%4 == 0 && len(out) < 19 {
				out = append(out, '-')
			}
			if len(out) < 19 {
				out = append(out, alpha[int(c)%len(alpha)])
				i++
			}
		}
	}
	return string(out)
}

// reload reads the file if it changed since it was last read (u.mu held).
func (u *Users) reload() error {
	st, err := stampOf(u.path)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	if st == u.stamp {
		return nil
	}
	b, err := safefile.ReadFile(u.path, maxUsersFile)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	var f usersFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("console: %s: %v", u.path, err)
	}
	if f.Users == nil {
		f.Users = map[string]*User{}
	}
	u.users, u.stamp = f.Users, st
	return nil
}

// maxUsersFile bounds what is read of the account file.
const maxUsersFile = 1 << 20

// refresh reloads a changed file; a file that cannot be read keeps the
// accounts last read (the daemon goes on serving sign-ins) and is logged
// by the caller through the error.
func (u *Users) refresh() error {
	return u.reload()
}

// update changes the file under its lock: the latest version is read,
// change applied, and the result written atomically (0600).
func (u *Users) update(change func(map[string]*User) error) error {
	unlock, err := lockFile(u.path + ".lock")
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer unlock()
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.reload(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	next := map[string]*User{}
	for n, usr := range u.users {
		c := *usr
		next[n] = &c
	}
	if err := change(next); err != nil {
		return err
	}
	b, err := json.MarshalIndent(usersFile{Users: next}, "", "  ")
	if err != nil {
		return err
	}
	if err := safefile.WriteFile(u.path, b, 0o600); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	u.users = next
	u.stamp, _ = stampOf(u.path)
	return nil
}

// get returns a copy of a user's record after a reload.
func (u *Users) get(name string) (User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.refresh()
	usr, ok := u.users[name]
	if !ok {
		return User{}, false
	}
	return *usr, true
}

// checker returns the password comparison for name, to run on a sign-in
// worker: bcrypt against the user's hash, or for a name with no account
// against another account's hash (same cost, so the same time) with the
// answer no.
func (u *Users) checker(name string) func(password string) (ok, mustChange bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.refresh()
	usr, known := u.users[name]
	var hash []byte
	must := false
	if known {
		hash, must = []byte(usr.Hash), usr.MustChange
	} else {
		hash = u.decoy()
	}
	return func(password string) (bool, bool) {
		ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
		return ok && known, must
	}
}

// decoy is a hash to compare unknown names against (u.mu held): the first
// account's, else a fixed one at the configured cost.
func (u *Users) decoy() []byte {
	for _, n := range UserNames {
		if usr, ok := u.users[n]; ok {
			return []byte(usr.Hash)
		}
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("no account has this password"), u.cost)
	return h
}

// MustChange reports whether the user still has to change the password.
func (u *Users) MustChange(name string) bool {
	usr, ok := u.get(name)
	return !ok || usr.MustChange
}

// LockedUntil returns the end of the user's hard lock (zero: none).
func (u *Users) LockedUntil(name string) time.Time {
	usr, _ := u.get(name)
	return usr.LockedUntil
}

// Epochs returns the user's session and throttle epochs.
func (u *Users) Epochs(name string) (session, throttle int) {
	usr, _ := u.get(name)
	return usr.SessionEpoch, usr.ThrottleEpoch
}

// SetPassword changes a user's password after checking the rule (the new
// one must differ from the current one) and ends every session of the
// user; it returns the new session epoch, for the session that made the
// change to carry on.
func (u *Users) SetPassword(name, password string) (int, error) {
	if err := CheckPassword(password); err != nil {
		return 0, err
	}
	cur, ok := u.get(name)
	if !ok {
		return 0, ErrNoSuchUser
	}
	if bcrypt.CompareHashAndPassword([]byte(cur.Hash), []byte(password)) == nil {
		return 0, &WeakPasswordError{"must differ from the current one"}
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), u.cost)
	if err != nil {
		return 0, err
	}
	epoch := 0
	err = u.update(func(m map[string]*User) error {
		usr := m[name]
		if usr == nil {
			return ErrNoSuchUser
		}
		usr.Hash, usr.MustChange = string(h), false
		usr.SessionEpoch++
		epoch = usr.SessionEpoch
		return nil
	})
	return epoch, err
}

// ResetResult is `sensorcore console reset --json`: the one-time password
// a reset gave (over the provisioning SSH channel only; never logged).
type ResetResult struct {
	OK         bool   `json:"ok"`
	User       string `json:"user"`
	Password   string `json:"password,omitempty"`
	MustChange bool   `json:"must_change"`
	Error      string `json:"error,omitempty"`
}

// Reset gives a privileged user a one-time password that must be changed
// at the next sign-in, ends its sessions, clears its throttling and its
// lock, and returns the password.
func (u *Users) Reset(name string) (string, error) {
	if !IsUser(name) {
		return "", ErrNoSuchUser
	}
	pw := randomPassword()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), u.cost)
	if err != nil {
		return "", err
	}
	err = u.update(func(m map[string]*User) error {
		usr := m[name]
		if usr == nil {
			usr = &User{}
			m[name] = usr
		}
		usr.Hash, usr.MustChange, usr.LockedUntil = string(h), true, time.Time{}
		usr.SessionEpoch++
		usr.ThrottleEpoch++
		return nil
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}

// Unlock ends a user's hard lock and clears its throttling; it reports
// whether the hard lock was on at now.
func (u *Users) Unlock(name string, now time.Time) (bool, error) {
	if !IsUser(name) {
		return false, ErrNoSuchUser
	}
	was := false
	err := u.update(func(m map[string]*User) error {
		usr := m[name]
		if usr == nil {
			return ErrNoSuchUser
		}
		was = now.Before(usr.LockedUntil)
		usr.LockedUntil = time.Time{}
		usr.ThrottleEpoch++
		return nil
	})
	return was, err
}

// HardLock records the hard lock of a user until the given time.
func (u *Users) HardLock(name string, until time.Time) error {
	return u.update(func(m map[string]*User) error {
		if usr := m[name]; usr != nil {
			usr.LockedUntil = until
		}
		return nil
	})
}
