package provision

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tapline/tapline/internal/sheetcsv"
)

// Prepared is what a batch needs to push one row: the bundle to send and
// the sensor to send it to.
type Prepared struct {
	Bundle Bundle
	Target Target
}

// BatchOptions shape a batch run.
type BatchOptions struct {
	Parallel int // pushes at once (default 8)
	Canary   int // push these first rows first; stop when any is not done
	Retries  int // extra attempts for transient faults (default 2; <0: none)
	// Backoff is the first pause before a retry; it doubles up to 30 s
	// (default 2 s).
	Backoff time.Duration
	// Prepare builds the bundle and target of a row (Session.Prepare).
	// Required. The batch wipes each bundle once its row has ended.
	Prepare func(ctx context.Context, row Row) (Prepared, error)
	// Journal, when set, records every attempt; a run with Resume skips
	// the rows it shows done.
	Journal *Journal
	Resume  bool
	Push    Options
}

// RowResult is one row's outcome in a batch.
type RowResult struct {
	Row      Row    `json:"row"`
	Result   Result `json:"result"`
	Attempts int    `json:"attempts"`
	Resumed  bool   `json:"resumed,omitempty"` // done in an earlier run (journal)
	// Retried: this result came from a retry run merged into the site's
	// report (BatchReport.Merge).
	Retried bool `json:"retried,omitempty"`
}

// BatchReport is a finished (or stopped) batch.
type BatchReport struct {
	Inventory string      `json:"inventory"`
	Started   time.Time   `json:"started"`
	Finished  time.Time   `json:"finished"`
	Stopped   string      `json:"stopped,omitempty"` // why rows were not started
	Results   []RowResult `json:"results"`
	// Dialect is the inventory's: the CSV report and the retry inventory
	// use its separator, so they open as the inventory did.
	Dialect sheetcsv.Dialect `json:"-"`
}

// Counts tallies outcomes.
func (r *BatchReport) Counts() map[Outcome]int {
	m := map[Outcome]int{}
	for _, x := range r.Results {
		m[x.Result.Outcome]++
	}
	return m
}

// AllDone reports whether every row ended done.
func (r *BatchReport) AllDone() bool {
	for _, x := range r.Results {
		if x.Result.Outcome != OutcomeDone {
			return false
		}
	}
	return true
}

// OutcomeNotStarted marks rows a stopped batch never began.
const OutcomeNotStarted Outcome = "not_started"

// RunBatch pushes every row of inv with bounded concurrency, an optional
// canary stage, retries with backoff for transient faults only, and a
// journal. Cancelling ctx stops starting rows and cancels running pushes;
// the report then holds what happened so far.
func RunBatch(ctx context.Context, inv *Inventory, o BatchOptions) (*BatchReport, error) {
	if o.Prepare == nil {
		return nil, errors.New("provision: batch without a Prepare function")
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Retries == 0 {
		o.Retries = 2
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	now := o.Push.Now
	if now == nil {
		now = time.Now
	}
	rep := &BatchReport{Inventory: inv.Path, Started: now(), Results: make([]RowResult, len(inv.Rows)), Dialect: inv.Dialect}
	done := map[string]Result{}
	if o.Resume && o.Journal != nil {
		var err error
		if done, err = o.Journal.Done(); err != nil {
			return nil, err
		}
	}
	for i, row := range inv.Rows {
		rep.Results[i] = RowResult{Row: row, Result: Result{Sensor: row.Sensor, Outcome: OutcomeNotStarted}}
		if r, ok := done[row.Sensor]; ok {
			rep.Results[i] = RowResult{Row: row, Result: r, Resumed: true}
		}
	}
	stage := func(idx []int) {
		sem := make(chan struct{}, o.Parallel)
		var wg sync.WaitGroup
		for _, i := range idx {
			if rep.Results[i].Resumed {
				continue
			}
			select {
			case <-ctx.Done():
			case sem <- struct{}{}:
			}
			if ctx.Err() != nil {
				break
			}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				rep.Results[i] = runRow(ctx, inv.Rows[i], o)
			}(i)
		}
		wg.Wait()
	}
	var canary, rest []int
	for i := range inv.Rows {
		if i < o.Canary {
			canary = append(canary, i)
		} else {
			rest = append(rest, i)
		}
	}
	if len(canary) > 0 {
		stage(canary)
		for _, i := range canary {
			if rep.Results[i].Result.Outcome != OutcomeDone {
				rep.Stopped = fmt.Sprintf("canary %s ended %s: the other %d sensors were not started", inv.Rows[i].Sensor, rep.Results[i].Result.Outcome, len(rest))
				rep.Finished = now()
				return rep, nil
			}
		}
	}
	stage(rest)
	if ctx.Err() != nil {
		rep.Stopped = "cancelled: " + ctx.Err().Error()
	}
	rep.Finished = now()
	return rep, nil
}

func runRow(ctx context.Context, row Row, o BatchOptions) RowResult {
	rr := RowResult{Row: row}
	prep, err := o.Prepare(ctx, row)
	if err != nil {
		rr.Result = Result{Sensor: row.Sensor, Outcome: OutcomeRefused, Error: err.Error(), Code: CodeNoBundle}
		if c, ok := LookupPushCode(CodeNoBundle); ok {
			rr.Result.Fix = c.Fix
		}
		o.Journal.record(row.Sensor, 0, rr.Result)
		return rr
	}
	defer prep.Bundle.Wipe()
	backoff := o.Backoff
	for attempt := 1; ; attempt++ {
		rr.Attempts = attempt
		o.Journal.start(row.Sensor, attempt)
		res := Push(ctx, prep.Target, prep.Bundle, o.Push)
		rr.Result = res
		o.Journal.record(row.Sensor, attempt, res)
		if res.PinnedKey != nil {
			prep.Target.PinnedKey = res.PinnedKey // a retry trusts the same key, at either address
		}
		if res.Outcome == OutcomeDone || !res.Transient || attempt > o.Retries || ctx.Err() != nil {
			return rr
		}
		select {
		case <-ctx.Done():
			return rr
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
