package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tapline/tapline/sensorcore/signin"
)

// SessionIdle ends a session after 30 idle minutes (FIELD-FACTS).
const SessionIdle = 30 * time.Minute

// CookieName is the session cookie.
const CookieName = "sensorcore_session"

// Health is /api/v1/health.
type Health struct {
	Status      string `json:"status"`
	SensorName  string `json:"sensor_name"`
	Activated   bool   `json:"activated"`
	Generation  int    `json:"generation"`
	Fingerprint string `json:"certificate_fingerprint_sha256"`
}

// Overview is what the overview page and /api/v1/status show; the daemon
// supplies it (its Status type).
type Overview interface{}

// Server is the console.
type Server struct {
	Users *Users
	// Guard throttles sign-ins (package signin); nil: one with the default
	// policy, its own worker pool, and the console's accounts hard-lockable.
	Guard   *signin.Guard
	Events  *EventLog // account events; nil: only Log hears of them
	Now     func() time.Time
	Health  func() Health
	Status  func() (Overview, error)
	Monitor http.Handler // optional: mounted at /monitor/ behind sign-in
	Log     func(format string, args ...any)
	cert    atomic.Pointer[tls.Certificate]

	once         sync.Once
	mu           sync.Mutex
	sessions     map[string]*session
	throttleSeen map[string]int
}

type session struct {
	user     string
	epoch    int // the user's session epoch when it began
	lastSeen time.Time
}

// Session bounds: a user's oldest sessions end beyond maxUserSessions.
const (
	maxSessions     = 256
	maxUserSessions = 16
)

func (s *Server) init() {
	s.once.Do(func() {
		if s.Guard == nil {
			s.Guard = &signin.Guard{Now: s.Now, Accounts: IsUser}
		}
		if s.Log == nil {
			s.Log = func(string, ...any) {}
		}
		s.sessions = map[string]*session{}
		s.throttleSeen = map[string]int{}
	})
}

// SetCertificate swaps the served certificate; open connections keep theirs.
func (s *Server) SetCertificate(c *tls.Certificate) { s.cert.Store(c) }

// Certificate returns the served certificate.
func (s *Server) Certificate() *tls.Certificate { return s.cert.Load() }

// TLSConfig returns a TLS configuration serving the current certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cert.Load(), nil
		},
	}
}

// Handler returns the console's routes.
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/health", s.health)
	mux.HandleFunc("GET /api/v1/status", s.auth(s.apiStatus, true))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /password", s.auth(s.passwordPage, false))
	mux.HandleFunc("POST /password", s.auth(s.changePassword, false))
	mux.HandleFunc("GET /{$}", s.auth(s.overview, true))
	if s.Monitor != nil {
		mux.Handle("/monitor/", http.StripPrefix("/monitor", s.authHandler(s.Monitor)))
	}
	return secureHeaders(sameOrigin(mux))
}

// sameOrigin refuses state-changing requests whose Origin (or, without
// one, Referer) names another host: with SameSite=Strict cookies this is
// the console's CSRF protection, covering the monitor's POST routes too.
func sameOrigin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			src := r.Header.Get("Origin")
			if src == "" {
				src = r.Header.Get("Referer")
			}
			if src != "" {
				u, err := url.Parse(src)
				if err != nil || u.Host != r.Host {
					writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Health())
}

func (s *Server) apiStatus(w http.ResponseWriter, _ *http.Request, _ string, _ *session) {
	st, err := s.Status()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// sessionUser returns the signed-in session for a request: known, not
// idle for too long, and begun in the user's current session epoch (a new
// password or a reset ends the others).
func (s *Server) sessionUser(r *http.Request) (string, *session) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", nil
	}
	now := s.Now()
	s.mu.Lock()
	se, ok := s.sessions[c.Value]
	s.mu.Unlock()
	if !ok {
		return "", nil
	}
	epoch, _ := s.Users.Epochs(se.user)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(se.lastSeen) > SessionIdle || se.epoch != epoch {
		delete(s.sessions, c.Value)
		return "", nil
	}
	se.lastSeen = now
	return c.Value, se
}

// newSession starts a session for user and returns its token; the
// oldest sessions end when the bounds are reached.
func (s *Server) newSession(user string) string {
	var b [32]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	epoch, _ := s.Users.Epochs(user)
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	mine := 0
	for t, se := range s.sessions {
		if now.Sub(se.lastSeen) > SessionIdle {
			delete(s.sessions, t)
		} else if se.user == user {
			mine++
		}
	}
	for mine >= maxUserSessions || len(s.sessions) >= maxSessions {
		oldest := ""
		for t, se := range s.sessions {
			if (mine < maxUserSessions || se.user == user) && (oldest == "" || se.lastSeen.Before(s.sessions[oldest].lastSeen)) {
				oldest = t
			}
		}
		if s.sessions[oldest].user == user {
			mine--
		}
		delete(s.sessions, oldest)
	}
	s.sessions[tok] = &session{user: user, epoch: epoch, lastSeen: now}
	return tok
}

// syncAccounts makes the guard forget a user's throttling when the
// account file says so (sensorcore console unlock or reset, perhaps run by
// another process).
func (s *Server) syncAccounts() {
	for _, n := range UserNames {
		_, te := s.Users.Epochs(n)
		s.mu.Lock()
		seen, ok := s.throttleSeen[n]
		s.throttleSeen[n] = te
		s.mu.Unlock()
		if ok && seen != te {
			s.Guard.Clear(n)
		}
	}
}

// signIn checks user's password, as typed at the remote address, through
// the guard: throttled per address, the hash compared on a bounded worker
// pool with no shared lock held, the hard lock recorded in the account
// file.
func (s *Server) signIn(ctx context.Context, remote, user, password string) (mustChange bool, err error) {
	s.syncAccounts()
	now := s.Now()
	if until := s.Users.LockedUntil(user); now.Before(until) {
		return false, &signin.LockedError{User: user, For: until.Sub(now), Until: until, Everywhere: true}
	}
	check := s.Users.checker(user)
	var must bool
	src := signin.SourceOf(remote)
	err = s.Guard.Attempt(ctx, src, user, func() bool {
		ok, m := check(password)
		must = m
		return ok
	})
	var le *signin.LockedError
	switch {
	case err == nil:
		return must, nil
	case errors.As(err, &le) && le.New && IsUser(user):
		if le.Everywhere {
			if herr := s.Users.HardLock(user, le.Until); herr != nil {
				s.Log("console: recording the lock of %s: %v", user, herr)
			}
			s.Events.Record("locked", "%s locked everywhere until %s after %d failed sign-ins within %s from many addresses, the last from %s; 'sensorcore console unlock %s' ends it sooner",
				user, le.Until.UTC().Format(time.RFC3339), le.Failures, signin.Human(s.Guard.Policy.HardLockWindow), src.Addr(), user)
		} else {
			s.Events.Record("locked", "%s locked for %s for sign-ins from %s after %d failed sign-ins from there", user, signin.Human(le.For), src.Addr(), le.Failures)
		}
	case errors.Is(err, signin.ErrBadCredentials):
		if IsUser(user) {
			s.Log("console: sign-in as %s from %s refused: wrong password", user, src.Addr())
		} else {
			s.Log("console: sign-in from %s refused: no such user", src.Addr())
		}
	}
	return false, err
}

// refusal writes a sign-in refusal: 401 for wrong credentials, 429 with
// Retry-After while the address is throttled or the account locked.
func (s *Server) refusalCode(w http.ResponseWriter, err error) int {
	if d, ok := signin.RetryAfter(err, s.Now()); ok {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
		return http.StatusTooManyRequests
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// auth wraps a handler needing sign-in; ready handlers also need the
// password changed. API callers may use HTTP Basic instead of a cookie
// (throttled like the form); se is nil for them.
func (s *Server) auth(h func(w http.ResponseWriter, r *http.Request, user string, se *session), ready bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user := ""
		_, se := s.sessionUser(r)
		if se != nil {
			user = se.user
		} else if u, p, ok := r.BasicAuth(); ok {
			must, err := s.signIn(r.Context(), r.RemoteAddr, u, p)
			if err != nil {
				writeJSON(w, s.refusalCode(w, err), map[string]string{"error": forPeople(err)})
				return
			}
			if must {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "sign in to the console once and change the initial password"})
				return
			}
			user = u
		}
		if user == "" {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if ready && s.Users.MustChange(user) {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		h(w, r, user, se)
	}
}

func (s *Server) authHandler(h http.Handler) http.Handler {
	return s.auth(func(w http.ResponseWriter, r *http.Request, _ string, _ *session) { h.ServeHTTP(w, r) }, true)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	must, err := s.signIn(r.Context(), r.RemoteAddr, user, pass)
	if err != nil {
		w.WriteHeader(s.refusalCode(w, err))
		render(w, loginTmpl, map[string]string{"Error": forPeople(err)})
		return
	}
	tok := s.newSession(user)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionIdle / time.Second)})
	s.Log("console: %s signed in from %s", user, signin.SourceOf(r.RemoteAddr).Addr())
	if must {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if tok, _ := s.sessionUser(r); tok != "" {
		s.mu.Lock()
		delete(s.sessions, tok)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) loginPage(w http.ResponseWriter, _ *http.Request) {
	render(w, loginTmpl, nil)
}

func (s *Server) passwordPage(w http.ResponseWriter, _ *http.Request, user string, _ *session) {
	render(w, passwordTmpl, map[string]string{"User": user})
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, user string, se *session) {
	p1, p2 := r.PostFormValue("new"), r.PostFormValue("confirm")
	if subtle.ConstantTimeCompare([]byte(p1), []byte(p2)) != 1 {
		w.WriteHeader(http.StatusBadRequest)
		render(w, passwordTmpl, map[string]string{"User": user, "Error": "the two passwords differ"})
		return
	}
	epoch, err := s.Users.SetPassword(user, p1)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		render(w, passwordTmpl, map[string]string{"User": user, "Error": forPeople(err)})
		return
	}
	if se != nil {
		s.mu.Lock()
		se.epoch = epoch
		s.mu.Unlock()
	}
	s.Events.Record("password", "%s changed the password from %s; the account's other sessions ended", user, signin.SourceOf(r.RemoteAddr).Addr())
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) overview(w http.ResponseWriter, _ *http.Request, user string, _ *session) {
	st, err := s.Status()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b, _ := json.Marshal(st)
	var m map[string]any
	json.Unmarshal(b, &m)
	render(w, overviewTmpl, map[string]any{"User": user, "S": m, "Monitor": s.Monitor != nil})
}

// forPeople is an error as a page shows it: without the package prefix
// and with a capital letter.
func forPeople(err error) string {
	m := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "console: "), "signin: ")
	if m != "" {
		m = strings.ToUpper(m[:1]) + m[1:]
	}
	return m
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	t.Execute(w, data)
}
