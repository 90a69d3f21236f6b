package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tapline/tapline/sensorcore/console/page"
	"github.com/tapline/tapline/sensorcore/signin"
)

// SessionIdle ends a session after 30 idle minutes (docs/field-facts.md).
const SessionIdle = 30 * time.Minute

// CookieName is the session cookie.
const CookieName = "sensorcore_session"

// Health is /api/v1/health, open without sign-in: it says only that the
// console is up ("ok"). The sensor's name, activation and generation are
// in /api/v1/status (signed in) and `sensorcore status` (over SSH).
type Health struct {
	Status string `json:"status"`
}

// Overview is what the overview page and /api/v1/status show; the daemon
// supplies it (its Status type).
type Overview interface{}

// Server is the console.
type Server struct {
	Users *Users
	// Guard throttles sign-ins (package signin); nil: one with the default
	// policy, its own worker pool, and the console's accounts hard-lockable.
	Guard  *signin.Guard
	Events *EventLog // account events; nil: only Log hears of them
	Now    func() time.Time
	Status func() (Overview, error)
	// Components gives the overview's component health list (the lines of
	// `sensorcore sanity`); HostKeys the sensor's SSH host keys. Optional.
	Components func(ctx context.Context) ([]Component, error)
	HostKeys   func() []HostKey
	// Monitor is mounted at /monitor/ behind sign-in; its pages render
	// with package page, framed by the console (page.FrameFrom). nil: those
	// pages say monitoring is off.
	Monitor http.Handler
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
	mux.Handle("GET /static/", page.Static())
	mux.HandleFunc("GET /api/v1/status", s.auth(s.apiStatus, true))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /password", s.auth(s.passwordPage, false))
	mux.HandleFunc("POST /password", s.auth(s.changePassword, false))
	mux.HandleFunc("GET /{$}", s.auth(s.overview, true))
	mon := s.Monitor
	if mon == nil {
		mon = http.HandlerFunc(monitorOff)
	}
	mux.Handle("/monitor/", http.StripPrefix("/monitor", s.authHandler(framedNotFound(mon))))
	mux.Handle("/", s.authHandler(http.HandlerFunc(notFound)))
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

// ContentSecurityPolicy allows the console's pages their own stylesheet
// and images and nothing else: no script at all, no inline style, no
// frame, no form posting elsewhere.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		// same-origin, not no-referrer: a form's POST must keep its Origin
		// header, which the CSRF check reads.
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Strict-Transport-Security", "max-age=31536000")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
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

// refusalCode is the HTTP status of a sign-in refusal: 401 for wrong
// credentials, 429 (with Retry-After set on w) while the address is
// throttled or the account locked.
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
		h(w, s.framed(r, user), user, se)
	}
}

func (s *Server) authHandler(h http.Handler) http.Handler {
	return s.auth(func(w http.ResponseWriter, r *http.Request, _ string, _ *session) { h.ServeHTTP(w, r) }, true)
}

// statusMap is the daemon's status as the pages read it (its JSON form).
func (s *Server) statusMap() (map[string]any, error) {
	st, err := s.Status()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(b, &m)
	return m, err
}

// framed returns r carrying the page frame for user: the sensor's name
// and generation in every page's header.
func (s *Server) framed(r *http.Request, user string) *http.Request {
	f := page.Frame{User: user, Sensor: "sensor"}
	if m, err := s.statusMap(); err == nil {
		if n, ok := m["sensor_name"].(string); ok && n != "" {
			f.Sensor = n
		}
		g, _ := m["generation"].(float64)
		f.Generation = int(g)
		f.Pending, _ = m["pending_confirmation"].(bool)
	}
	return r.WithContext(page.WithFrame(r.Context(), f))
}

// monitorOff answers the monitoring pages when no monitor runs.
func monitorOff(w http.ResponseWriter, r *http.Request) {
	titles := map[string][2]string{"/devices": {"Devices", page.Devices}, "/alerts": {"Alerts", page.Alerts},
		"/operations": {"Operations log", page.Operations}}
	t, ok := titles[r.URL.Path]
	if !ok {
		notFound(w, r)
		return
	}
	page.Render(w, r, page.Page{Title: t[0], Nav: t[1], Body: monitorOffBody()})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	page.Render(w, r, page.Page{Title: "Not found", Body: notFoundBody(), Data: r.URL.Path, Status: http.StatusNotFound})
}

// framedNotFound answers a plain "404 page not found" of h (a page the
// monitor does not have) with the framed page instead.
func framedNotFound(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r) // machines get the handler's own answer
			return
		}
		nw := &notFoundWriter{ResponseWriter: w}
		h.ServeHTTP(nw, r)
		switch {
		case nw.missing && r.URL.Path == "/operations":
			// The navigation's slot for the operations log, until the
			// monitor serves it.
			page.Render(w, r, page.Page{Title: "Operations log", Nav: page.Operations, Body: operationsSlotBody()})
		case nw.missing:
			notFound(w, r)
		}
	})
}

// notFoundWriter swallows a plain-text 404 so a framed one can replace it.
type notFoundWriter struct {
	http.ResponseWriter
	missing bool
	wrote   bool
}

func (w *notFoundWriter) WriteHeader(code int) {
	if !w.wrote && code == http.StatusNotFound && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.missing = true
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *notFoundWriter) Write(b []byte) (int, error) {
	if w.missing {
		return len(b), nil
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	must, err := s.signIn(r.Context(), r.RemoteAddr, user, pass)
	if err != nil {
		page.Render(w, r, page.Page{Title: "Sign in", Body: loginBody(), Data: map[string]string{"Error": forPeople(err)}, Status: s.refusalCode(w, err)})
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

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	page.Render(w, r, page.Page{Title: "Sign in", Body: loginBody(), Data: map[string]string{}})
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, user string, _ *session) {
	page.Render(w, r, page.Page{Title: "Change the password of " + user, Body: passwordBody(),
		Data: map[string]any{"User": user, "Must": s.Users.MustChange(user)}})
}

// changePassword sets a new password: the current one is asked again
// (a session left open is not enough to take the account over), checked
// through the guard like a sign-in; every other session of the user ends.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, user string, se *session) {
	fail := func(code int, msg string) {
		page.Render(w, r, page.Page{Title: "Change the password of " + user, Body: passwordBody(), Status: code,
			Data: map[string]any{"User": user, "Error": msg, "Must": s.Users.MustChange(user)}})
	}
	if se == nil {
		fail(http.StatusForbidden, "Sign in with the form to change the password")
		return
	}
	cur, p1, p2 := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	if subtle.ConstantTimeCompare([]byte(p1), []byte(p2)) != 1 {
		fail(http.StatusBadRequest, "The two new passwords differ")
		return
	}
	if err := CheckPassword(p1); err != nil {
		fail(http.StatusBadRequest, forPeople(err))
		return
	}
	if _, err := s.signIn(r.Context(), r.RemoteAddr, user, cur); err != nil {
		if errors.Is(err, signin.ErrBadCredentials) {
			err = errors.New("the current password is wrong")
		}
		fail(s.refusalCode(w, err), forPeople(err))
		return
	}
	epoch, err := s.Users.SetPassword(user, p1)
	if err != nil {
		fail(http.StatusBadRequest, forPeople(err))
		return
	}
	s.mu.Lock()
	se.epoch = epoch
	s.mu.Unlock()
	s.Events.Record("password", "%s changed the password from %s; the account's other sessions ended", user, signin.SourceOf(r.RemoteAddr).Addr())
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// Component is one line of the overview's health list (`sensorcore
// sanity`).
type Component struct {
	Name   string
	Up     bool
	Detail string
}

// HostKey is one of the sensor's SSH host keys as `ssh-keygen -l` and
// Tapline show it.
type HostKey struct {
	Type        string // ED25519, ECDSA, RSA
	Fingerprint string // SHA256:...
	Where       string // which server presents it
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, user string, _ *session) {
	m, err := s.statusMap()
	if err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	data := map[string]any{"User": user, "S": m, "Events": s.Events.Tail(8)}
	if s.Components != nil {
		cs, err := s.Components(r.Context())
		all := err == nil
		for _, c := range cs {
			all = all && c.Up
		}
		data["Components"], data["AllUp"] = cs, all
		if err != nil {
			data["ComponentsErr"] = err.Error()
		}
	}
	if s.HostKeys != nil {
		data["HostKeys"] = s.HostKeys()
	}
	page.Render(w, r, page.Page{Title: "Overview", Nav: page.Overview, Body: overviewBody(), Data: data})
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
