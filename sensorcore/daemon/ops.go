package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tapline/tapline/sensorcore/generation"
)

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// OpResult is confirm's and rollback's JSON result.
type OpResult struct {
	OK         bool   `json:"ok"`
	Generation int    `json:"generation"`
	Previous   int    `json:"previous_generation,omitempty"`
	Message    string `json:"message"`
	Code       string `json:"code,omitempty"` // stable code of a refusal (TL-APP-*)
	Error      string `json:"error,omitempty"`
}

// Confirm makes the pending generation permanent.
func (e *Engine) Confirm() (*OpResult, error) {
	st := e.Layout.Store()
	unlock, err := st.Lock()
	if err != nil {
		return &OpResult{Error: err.Error()}, err
	}
	defer unlock()
	cur, err := st.Current()
	if err != nil {
		return &OpResult{Error: "no generation applied yet"}, &Refusal{CodeInternal, "no generation applied yet"}
	}
	p, err := st.ReadPending()
	if err != nil {
		return &OpResult{Generation: cur, Error: err.Error()}, err
	}
	if p == nil || p.Generation != cur {
		if p != nil {
			st.ClearPending()
		}
		return &OpResult{OK: true, Generation: cur, Message: fmt.Sprintf("nothing to confirm: generation %d is permanent", cur)}, nil
	}
	if !e.Now().Before(p.Deadline) {
		// Too late: the deadline is the contract (a daemon that was down
		// would restore the previous generation at its next start), so a
		// late confirm restores it now instead of making it permanent.
		reason := fmt.Sprintf("generation %d was not confirmed before its rollback deadline %s; generation %d restored",
			cur, p.Deadline.Format(time.RFC3339), p.Previous)
		if err := e.rollbackLocked(context.Background(), cur, p.Previous, reason); err != nil {
			return &OpResult{Generation: cur, Error: err.Error()}, err
		}
		msg := fmt.Sprintf("too late to confirm: the rollback deadline %s has passed; generation %d restored (apply the bundle again to retry)",
			p.Deadline.Format(time.RFC3339), p.Previous)
		return &OpResult{Generation: p.Previous, Previous: cur, Code: CodeDeadlinePassed, Error: msg}, &Refusal{CodeDeadlinePassed, msg}
	}
	if err := st.ClearPending(); err != nil {
		return &OpResult{Generation: cur, Error: err.Error()}, err
	}
	e.signalReload()
	e.Log("confirmed generation %d", cur)
	return &OpResult{OK: true, Generation: cur, Previous: p.Previous, Message: fmt.Sprintf("generation %d confirmed", cur)}, nil
}

// Rollback returns to the previous generation now, network included.
func (e *Engine) Rollback(ctx context.Context, reason string) (*OpResult, error) {
	st := e.Layout.Store()
	unlock, err := st.Lock()
	if err != nil {
		return &OpResult{Error: err.Error()}, err
	}
	defer unlock()
	cur, err := st.Current()
	if errors.Is(err, generation.ErrNone) {
		msg := "nothing to roll back: no generation applied yet (the appliance is on its factory state)"
		return &OpResult{Code: CodeNothingToRollBack, Error: msg}, &Refusal{CodeNothingToRollBack, msg}
	}
	if err != nil {
		return &OpResult{Code: CodeInternal, Error: err.Error()}, &Refusal{CodeInternal, err.Error()}
	}
	to, firstPending := 0, false
	if p, _ := st.ReadPending(); p != nil && p.Generation == cur {
		// An unconfirmed first apply goes back to the factory network.
		to, firstPending = p.Previous, p.Previous == 0
	} else if m, err := st.ReadMeta(cur); err == nil {
		to = m.Previous
	}
	if to == 0 && !firstPending {
		msg := fmt.Sprintf("nothing to roll back to: generation %d is the first", cur)
		return &OpResult{Generation: cur, Code: CodeNothingToRollBack, Error: msg}, &Refusal{CodeNothingToRollBack, msg}
	}
	if err := e.rollbackLocked(ctx, cur, to, reason); err != nil {
		return &OpResult{Generation: cur, Error: err.Error()}, err
	}
	return &OpResult{OK: true, Generation: to, Previous: cur, Message: fmt.Sprintf("rolled back from generation %d to %d", cur, to)}, nil
}

// rollbackLocked switches from generation from to generation to. The
// record is written first so a crash halfway still says why; the pending
// record goes stale with the switch and is cleared after.
func (e *Engine) rollbackLocked(ctx context.Context, from, to int, reason string) error {
	st := e.Layout.Store()
	if to == 0 {
		return e.rollbackToFactory(ctx, from, reason)
	}
	if _, err := st.ReadMeta(to); err != nil {
		return fmt.Errorf("rollback: generation %d is not on disk: %w", to, err)
	}
	if err := st.WriteRollback(generation.Rollback{From: from, To: to, At: e.Now().UTC(), Reason: reason}); err != nil {
		return err
	}
	if err := st.MarkNetwork(to, false); err != nil {
		return err
	}
	if err := st.Switch(to); err != nil {
		return err
	}
	if err := st.ClearPending(); err != nil {
		return err
	}
	netErr := e.applyNetwork(ctx, to)
	e.signalReload()
	e.Log("rolled back from generation %d to %d: %s", from, to, reason)
	if netErr != nil {
		return fmt.Errorf("rolled back to generation %d but its network settings failed: %v", to, netErr)
	}
	return nil
}

// Tick is the daemon's periodic duty: clear a stale pending record, roll
// back when the deadline has passed, and apply the current generation's
// network if a crash left it unapplied. It returns whether anything changed.
func (e *Engine) Tick(ctx context.Context) (bool, error) {
	st := e.Layout.Store()
	unlock, err := st.Lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	st.Clean()
	e.sweepIncoming()
	cur, err := st.Current()
	if errors.Is(err, generation.ErrNone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p, err := st.ReadPending()
	if err != nil {
		return false, err
	}
	if p != nil && p.Generation != cur {
		return true, st.ClearPending()
	}
	if p != nil && !e.Now().Before(p.Deadline) {
		reason := fmt.Sprintf("generation %d was not confirmed before its rollback deadline %s; generation %d restored",
			cur, p.Deadline.Format(time.RFC3339), p.Previous)
		return true, e.rollbackLocked(ctx, cur, p.Previous, reason)
	}
	if !st.NetworkApplied(cur) {
		if err := e.applyNetwork(ctx, cur); err != nil {
			return false, fmt.Errorf("generation %d network: %w", cur, err)
		}
		e.Log("applied generation %d network settings", cur)
		return true, nil
	}
	return false, nil
}
