package account

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// beginAttempt takes a sign-in slot of the account, waiting briefly while
// every slot is held by attempts in flight. Waiting costs no hash memory.
func (s *Service) beginAttempt(ctx context.Context, o Org, u User) (Attempt, error) {
	deadline := time.Now().Add(10 * time.Second)
	try := func() (Attempt, error) {
		var att Attempt
		// One conditional statement takes the slot: no transaction needed.
		err := s.store.Autocommit(ctx, func(tx Tx) error {
			var err error
			att, err = tx.BeginLoginAttempt(ctx, o.ID, u.ID, o.Settings.Lockout.MaxFailures, s.now())
			return err
		})
		return att, err
	}
	att, err := try()
	if err != nil || att.Admitted || att.Locked {
		return att, err
	}
	// Every slot is taken: wait in line. An attempt of this process that
	// ends hands its slot to the first in line (or, when the account admits
	// no more, wakes it to find out why); slots freed by other processes
	// are seen by polling, which only the first in line does, so that a
	// crowd of waiters never hammers the account's row.
	turn := s.slotWaiters.join(u.ID)
	defer func() {
		if left := s.slotWaiters.leave(u.ID, turn); left != nil {
			// Handed a slot as this sign-in gave up: give it back.
			s.endAttempt(ctx, o, u, AttemptEnd{Outcome: AttemptAbandoned})
		}
	}()
	for {
		wait := time.Until(deadline)
		if s.slotWaiters.first(u.ID, turn) {
			const poll = 250 * time.Millisecond
			wait = min(wait, poll+time.Duration(rand.Int64N(int64(poll))))
		}
		timer := time.NewTimer(max(wait, 0))
		var handed *Attempt
		select {
		case <-ctx.Done():
			timer.Stop()
			return Attempt{}, hashErr(ctx.Err())
		case handed = <-turn.c:
			timer.Stop()
		case <-timer.C:
		}
		if handed != nil {
			return *handed, nil
		}
		att, err := try()
		if err != nil || att.Admitted || att.Locked {
			if !att.Admitted {
				s.slotWaiters.wake(u.ID) // pass the turn on
			}
			return att, err
		}
		if time.Now().After(deadline) {
			return Attempt{}, &Error{Code: CodeOverloaded, Message: "Too many sign-ins for this account at once; try again in a moment."}
		}
		// Not admitted after all (another process took the slot): still
		// first in line.
		s.slotWaiters.stay(u.ID, turn)
	}
}

// waiters are the sign-ins of this process waiting for a slot of their
// account, in order of arrival. One waiter a slot, in order, so that a
// crowd of sign-ins to one account never stampedes its row.
type waiters struct {
	mu sync.Mutex
	m  map[UserID][]*turn
}

// A turn is one waiting sign-in. It receives a slot taken on its behalf
// (an admitted *Attempt), or nil, which tells it to try for one.
type turn struct {
	c    chan *Attempt // holds the one turn it is given
	gone bool          // it stopped waiting; guarded by waiters.mu
}

// join queues a waiter for the account's next free slot.
func (w *waiters) join(id UserID) *turn {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[UserID][]*turn{}
	}
	t := &turn{c: make(chan *Attempt, 1)}
	w.m[id] = append(w.m[id], t)
	return t
}

// pop takes the longest-waiting sign-in of the account off the queue, or
// returns nil. The caller must give it its turn.
func (w *waiters) pop(id UserID) *turn {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.popLocked(id)
}

func (w *waiters) popLocked(id UserID) *turn {
	q := w.m[id]
	if len(q) == 0 {
		return nil
	}
	w.m[id] = q[1:]
	if len(w.m[id]) == 0 {
		delete(w.m, id)
	}
	return q[0]
}

// give hands a popped waiter of account id its turn: a slot, or nil to try
// for one. A waiter that stopped waiting meanwhile passes it to the next in
// line; a slot nobody is left to take is returned, and the caller gives it
// back. A nil waiter is nobody.
func (w *waiters) give(id UserID, t *turn, att *Attempt) *Attempt {
	if t == nil {
		return att
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.giveLocked(id, t, att)
}

func (w *waiters) giveLocked(id UserID, t *turn, att *Attempt) *Attempt {
	for t != nil && t.gone {
		t = w.popLocked(id)
	}
	if t == nil {
		return att
	}
	t.c <- att // a popped turn is given once; the buffer holds it
	return nil
}

// wake tells the longest-waiting sign-in of the account to try again.
func (w *waiters) wake(id UserID) {
	w.give(id, w.pop(id), nil)
}

// stay puts a waiter that was woken but found no slot back at the head of
// the line; one still in line keeps its place.
func (w *waiters) stay(id UserID, t *turn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if slices.Contains(w.m[id], t) {
		return
	}
	if w.m == nil {
		w.m = map[UserID][]*turn{}
	}
	w.m[id] = append([]*turn{t}, w.m[id]...)
}

// first reports whether t is first in the account's line.
func (w *waiters) first(id UserID, t *turn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.m[id]
	return len(q) > 0 && q[0] == t
}

// leave takes a waiter off the queue once it stops waiting. A turn it was
// given but did not take passes to the next in line, and so does the turn
// of a waiter that leaves first in line. A slot it was handed with nobody
// left to take it is returned: the caller gives it back.
func (w *waiters) leave(id UserID, t *turn) *Attempt {
	w.mu.Lock()
	defer w.mu.Unlock()
	t.gone = true
	pass, handed := false, (*Attempt)(nil)
	select {
	case handed = <-t.c:
		pass = true // given a turn (and so already off the queue) but not taking it
	default:
	}
	if i := slices.Index(w.m[id], t); i >= 0 {
		pass = pass || i == 0
		w.m[id] = slices.Delete(w.m[id], i, i+1)
		if len(w.m[id]) == 0 {
			delete(w.m, id)
		}
	}
	if !pass {
		return nil
	}
	return w.giveLocked(id, w.popLocked(id), handed)
}
