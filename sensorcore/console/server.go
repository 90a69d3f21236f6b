package console

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	Users    *Users
	Now      func() time.Time
	Health   func() Health
	Status   func() (Overview, error)
	Monitor  http.Handler // optional: mounted at /monitor/ behind sign-in
	Log      func(format string, args ...any)
	cert     atomic.Pointer[tls.Certificate]
	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	user       string
	mustChange bool
	lastSeen   time.Time
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

func (s *Server) apiStatus(w http.ResponseWriter, _ *http.Request, _ string) {
	st, err := s.Status()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// sessionUser returns the signed-in session for a request.
func (s *Server) sessionUser(r *http.Request) (string, *session) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", nil
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[c.Value]
	if !ok || now.Sub(se.lastSeen) > SessionIdle {
		delete(s.sessions, c.Value)
		return "", nil
	}
	se.lastSeen = now
	return c.Value, se
}

// auth wraps a handler needing sign-in; ready handlers also need the
// password changed. API callers may use HTTP Basic instead of a cookie.
func (s *Server) auth(h func(http.ResponseWriter, *http.Request, string), ready bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user := ""
		if _, se := s.sessionUser(r); se != nil {
			user = se.user
		} else if u, p, ok := r.BasicAuth(); ok {
			must, err := s.Users.SignIn(u, p, s.Now())
			if err != nil {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
				return
			}
			if must {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "sign in to the console once and change the initial password"})
				return
			}
			user = u
		}
		if user == "" {
			if len(r.URL.Path) > 5 && r.URL.Path[:5] == "/api/" {
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
		h(w, r, user)
	}
}

func (s *Server) authHandler(h http.Handler) http.Handler {
	return s.auth(func(w http.ResponseWriter, r *http.Request, _ string) { h.ServeHTTP(w, r) }, true)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	must, err := s.Users.SignIn(user, pass, s.Now())
	if err != nil {
		s.Log("console: sign-in refused for %q: %v", user, err)
		w.WriteHeader(http.StatusUnauthorized)
		render(w, loginTmpl, map[string]string{"Error": forPeople(err)})
		return
	}
	var b [32]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.mu.Lock()
	if s.sessions == nil {
		s.sessions = map[string]*session{}
	}
	s.sessions[tok] = &session{user: user, mustChange: must, lastSeen: s.Now()}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionIdle / time.Second)})
	s.Log("console: %s signed in", user)
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

func (s *Server) passwordPage(w http.ResponseWriter, _ *http.Request, user string) {
	render(w, passwordTmpl, map[string]string{"User": user})
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, user string) {
	p1, p2 := r.PostFormValue("new"), r.PostFormValue("confirm")
	if subtle.ConstantTimeCompare([]byte(p1), []byte(p2)) != 1 {
		w.WriteHeader(http.StatusBadRequest)
		render(w, passwordTmpl, map[string]string{"User": user, "Error": "the two passwords differ"})
		return
	}
	if err := s.Users.SetPassword(user, p1); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		render(w, passwordTmpl, map[string]string{"User": user, "Error": forPeople(err)})
		return
	}
	s.Log("console: %s changed the password", user)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) overview(w http.ResponseWriter, _ *http.Request, user string) {
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
	m := strings.TrimPrefix(err.Error(), "console: ")
	if m != "" {
		m = strings.ToUpper(m[:1]) + m[1:]
	}
	return m
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	t.Execute(w, data)
}
