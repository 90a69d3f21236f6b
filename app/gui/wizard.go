package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/provision"
)

// wizardStep is one page of the sensor setup wizard.
type wizardStep interface {
	title() string
	content() fyne.CanvasObject
	// enter is called when the page is shown.
	enter()
	// ready reports whether Next may be pressed. When not, the page shows
	// why next to the fields or actions concerned and returns the first of
	// those notes, which the wizard scrolls into view.
	ready() (bool, fyne.CanvasObject)
}

// wizardScreen is the sensor setup wizard in the order the engineer meets
// the sensor (docs/field-facts.md "First setup"): Connect, Network, Activation,
// Certificate, Review, Push. Enter advances when the page is complete.
type wizardScreen struct {
	env   Env
	steps []wizardStep
	cur   int

	conn *connectStep
	net  *networkStep
	act  *activationStep
	cert *certStep
	rev  *reviewStep
	push *pushStep
	val  *validateStep
	menu *sensorMenu // the sensor signed in to

	heading *widget.Label
	crumbs  *widget.RichText
	body    *fyne.Container
	scroll  *container.Scroll // the page; each starts at its top
	backBtn *widget.Button
	nextBtn *widget.Button
}

func newWizardScreen(env Env) *wizardScreen {
	s := &wizardScreen{env: env, heading: widget.NewLabel(""), crumbs: widget.NewRichText(),
		body: container.NewStack()}
	s.scroll = container.NewVScroll(s.body)
	s.heading.TextStyle = fyne.TextStyle{Bold: true}
	s.heading.SizeName = theme.SizeNameSubHeadingText
	s.menu = newSensorMenu(env, s.menuTarget)
	s.conn = newConnectStep(env, s)
	s.net = newNetworkStep(env, s)
	s.act = newActivationStep(env, s)
	s.cert = newCertStep(env, s)
	s.rev = newReviewStep(env, s)
	s.push = newPushStep(env, s)
	s.val = newValidateStep(env, s)
	s.menu.validated = s.val.validated
	s.steps = []wizardStep{s.conn, s.net, s.act, s.cert, s.rev, s.push, s.val}
	s.backBtn = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), s.onBack)
	s.nextBtn = widget.NewButtonWithIcon("Next", theme.NavigateNextIcon(), s.onNext)
	s.nextBtn.IconPlacement = widget.ButtonIconTrailingText
	s.nextBtn.Importance = widget.HighImportance
	s.show(0)
	return s
}

func (s *wizardScreen) build() fyne.CanvasObject {
	top := container.NewVBox(s.crumbs, s.heading)
	bottom := container.NewHBox(s.backBtn, s.nextBtn)
	return newBorder(top, bottom, nil, nil, s.scroll)
}

func (s *wizardScreen) show(i int) {
	s.cur = i
	st := s.steps[i]
	s.heading.SetText(st.title())
	// Where the engineer is: the current step bold in the primary colour,
	// the others in the normal text colour (readable, unlike low importance).
	var segs []widget.RichTextSegment
	for j, o := range s.steps {
		if j > 0 {
			segs = append(segs, &widget.TextSegment{Text: "  →  ", Style: widget.RichTextStyleInline})
		}
		st := widget.RichTextStyleInline
		if j == i {
			st = widget.RichTextStyleStrong
			st.Inline = true
			st.ColorName = theme.ColorNamePrimary
		}
		segs = append(segs, &widget.TextSegment{Text: o.title(), Style: st})
	}
	s.crumbs.Segments = segs
	s.crumbs.Refresh()
	s.body.Objects = []fyne.CanvasObject{st.content()}
	s.body.Refresh()
	s.scroll.ScrollToTop()
	st.enter()
	s.update()
}

// reveal scrolls the page so o, a note or a result on it, is in view.
func (s *wizardScreen) reveal(o fyne.CanvasObject) { reveal(s.scroll, o) }

// update sets the buttons from the current page's state and lays the page
// out again: background work changes the height of its texts (Review's
// summary and diff), and a container does not notice that by itself.
func (s *wizardScreen) update() {
	s.body.Refresh()
	setEnabled(s.backBtn, s.cur > 0 && !s.push.running())
	// The last page has no Next; Push has one once a push ended done (on
	// to its validation).
	if s.cur == len(s.steps)-1 || s.steps[s.cur] == wizardStep(s.push) && !s.push.isDone() {
		s.nextBtn.Hide()
		return
	}
	s.nextBtn.Show()
	// Next stays enabled while the page is incomplete: pressing it says
	// what is missing, in findings, instead of a silent grey button.
	setEnabled(s.nextBtn, !s.busy())
}

// busy reports whether the current page is waiting for background work.
func (s *wizardScreen) busy() bool {
	switch st := s.steps[s.cur].(type) {
	case *connectStep:
		return st.tasks.Busy()
	case *activationStep:
		return st.tasks.Busy()
	case *certStep:
		return st.tasks.Busy()
	case *reviewStep:
		return st.tasks.Busy()
	}
	return false
}

// onNext advances when the page is complete, else shows why not.
func (s *wizardScreen) onNext() {
	if s.cur >= len(s.steps)-1 {
		return
	}
	ok, why := s.steps[s.cur].ready()
	if !ok {
		s.reveal(why)
		return
	}
	s.show(s.cur + 1)
}

func (s *wizardScreen) onBack() {
	if s.cur > 0 && !s.push.running() {
		s.show(s.cur - 1)
	}
}

// Wait blocks until every step's background work has finished.
func (s *wizardScreen) Wait() {
	s.conn.tasks.Wait()
	s.act.tasks.Wait()
	s.cert.tasks.Wait()
	s.rev.tasks.Wait()
	s.push.tasks.Wait()
}

// nextSensor starts the wizard again for the site's next sensor. What a
// site shares stays: the user and sign-in, the ports, mask, gateway, DNS,
// interface and proxy, the certificate source, its name, validation and
// CRL, the local CA's passphrase. What is one sensor's goes: its address,
// new IP, host name and reach address, its activation file, its
// certificate files and their passphrase, and every confirmation.
func (s *wizardScreen) nextSensor() {
	if s.push.running() {
		return
	}
	c := s.conn
	c.address.SetText("")
	c.address.SetOptions(recentHostOptions(s.env))
	c.reset()
	for _, e := range []*widget.Entry{s.net.ip, s.net.hostname, s.net.reach,
		s.cert.cert, s.cert.key, s.cert.chain, s.cert.pfx, s.cert.passphrase} {
		e.SetText("")
	}
	s.net.notes.clear()
	s.net.tried = false
	s.act.path.SetText("")
	s.act.terms.SetChecked(false)
	s.cert.invalidate()
	s.cert.syncMode()
	s.rev.rep = nil
	s.rev.accept.SetChecked(false)
	s.push.clear()
	s.show(0)
	if cv := fyne.CurrentApp().Driver().CanvasForObject(c.address); cv != nil {
		cv.Focus(c.address)
	}
}

// menuTarget is the sensor the wizard signed in to, for the sensor menu:
// the Connect page's sign-in, and after a push that ended done where the
// sensor answers now and the host key the push proved there.
func (s *wizardScreen) menuTarget() (sensorRef, bool, string) {
	c := s.conn
	if c.connected == "" {
		return sensorRef{}, false, "Connect to the sensor first (Connect page)."
	}
	ref := sensorRef{row: s.row(), sec: c.secrets()}
	if r := s.push.Result(); r != nil && r.Outcome == provision.OutcomeDone {
		ref.addr, ref.pinned = r.FinalAddr, r.PinnedKey
	}
	if ref.row.Sensor == "" && c.live != nil {
		ref.row.Sensor = c.live.SensorName
	}
	return ref, true, ""
}
