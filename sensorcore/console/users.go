package console

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapline/tapline/internal/safefile"
)

// Users of the console (FIELD-FACTS: the privileged accounts).
var userNames = []string{"admin", "support"}

// Lockout policy.
const (
	MaxFailures = 5
	LockFor     = 5 * time.Minute
)

// User is one console account as stored.
type User struct {
	Hash        string    `json:"hash"`
	MustChange  bool      `json:"must_change"`
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"locked_until"`
}

// Users is the console's account file (etc/sensorcore/console-users.json).
type Users struct {
	mu    sync.Mutex
	path  string
	cost  int
	Users map[string]*User `json:"users"`
}

// Errors from sign-in.
var (
	ErrBadCredentials = errors.New("console: wrong user name or password")
	ErrLocked         = errors.New("console: account locked for 5 minutes after 5 failed sign-ins; try again later")
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
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	u := &Users{path: path, cost: cost}
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, u); err != nil {
			return nil, fmt.Errorf("console: %s: %v", path, err)
		}
		if u.Users == nil {
			u.Users = map[string]*User{}
		}
		return u, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("console: %w", err)
	}
	u.Users = map[string]*User{}
	var lines []string
	for _, n := range userNames {
		pw := randomPassword()
		h, err := bcrypt.GenerateFromPassword([]byte(pw), u.cost)
		if err != nil {
			return nil, err
		}
		u.Users[n] = &User{Hash: string(h), MustChange: true}
		lines = append(lines, n+" "+pw)
	}
	if err := os.MkdirAll(filepath.Dir(initialPath), 0o700); err != nil {
		return nil, err
	}
	if err := safefile.WriteFile(initialPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return u, u.save()
}

func randomPassword() string {
	const alpha = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	rand.Read(b)
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alpha[int(c)%len(alpha)]
	}
	return string(out[:4]) + "-" + string(out[4:8]) + "-" + string(out[8:12]) + "-" + string(out[12:])
}

func (u *Users) save() error {
	b, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(u.path, b, 0o600)
}

// SignIn checks a password at time now, counting failures and locking.
// It returns whether the user must change the password first.
func (u *Users) SignIn(name, password string, now time.Time) (mustChange bool, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	usr, ok := u.Users[name]
	if !ok {
		bcrypt.CompareHashAndPassword([]byte("$2a$10$abcdefghijklmnopqrstuuJ0z1p5aQ2yZy9Kq2l8s2I1cH5a6y0mS"), []byte(password))
		return false, ErrBadCredentials
	}
	if now.Before(usr.LockedUntil) {
		return false, ErrLocked
	}
	if bcrypt.CompareHashAndPassword([]byte(usr.Hash), []byte(password)) != nil {
		usr.Failures++
		if usr.Failures >= MaxFailures {
			usr.LockedUntil = now.Add(LockFor)
			usr.Failures = 0
			u.save()
			return false, ErrLocked
		}
		u.save()
		return false, ErrBadCredentials
	}
	if usr.Failures != 0 {
		usr.Failures = 0
		u.save()
	}
	return usr.MustChange, nil
}

// SetPassword changes a user's password after checking the rule; the new
// password must differ from the old.
func (u *Users) SetPassword(name, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	usr, ok := u.Users[name]
	if !ok {
		return ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(usr.Hash), []byte(password)) == nil {
		return &WeakPasswordError{"must differ from the current one"}
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), u.cost)
	if err != nil {
		return err
	}
	usr.Hash, usr.MustChange = string(h), false
	return u.save()
}

// MustChange reports whether the user still has to change the password.
func (u *Users) MustChange(name string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	usr, ok := u.Users[name]
	return !ok || usr.MustChange
}
