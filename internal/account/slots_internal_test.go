package account

import "testing"

// got returns what a turn was given, and whether it was given anything.
func got(t *turn) (*Attempt, bool) {
	select {
	case a := <-t.c:
		return a, true
	default:
		return nil, false
	}
}

func TestWaiters_order(t *testing.T) {
	var w waiters
	a, b, c := w.join(1), w.join(1), w.join(1)
	other := w.join(2)
	if !w.first(1, a) || w.first(1, b) || !w.first(2, other) {
		t.Fatal("the first to join is not first in line")
	}
	slot := &Attempt{Admitted: true}
	if left := w.give(1, w.pop(1), slot); left != nil {
		t.Fatal("a slot handed to a waiter came back")
	}
	if att, ok := got(a); !ok || att != slot {
		t.Fatalf("the first waiter got %v, %v; want the slot", att, ok)
	}
	w.wake(1)
	if att, ok := got(b); !ok || att != nil {
		t.Fatalf("the second waiter got %v, %v; want a nil turn (try yourself)", att, ok)
	}
	// b found no slot after all: it goes back to the head, before c.
	w.stay(1, b)
	if !w.first(1, b) {
		t.Fatal("a woken waiter that found no slot lost its place")
	}
	if _, ok := got(c); ok {
		t.Fatal("the third waiter was given a turn nobody gave it")
	}
	if _, ok := got(other); ok {
		t.Fatal("another account's waiter was woken")
	}
}

func TestWaiters_leaving(t *testing.T) {
	slot := &Attempt{Admitted: true}
	t.Run("a slot handed to a waiter that left goes to the next", func(t *testing.T) {
		var w waiters
		a, b := w.join(1), w.join(1)
		popped := w.pop(1)
		if w.leave(1, a) != nil { // a gives up after it was popped, before it is given
			t.Fatal("leave returned a slot that was never handed")
		}
		if left := w.give(1, popped, slot); left != nil {
			t.Fatal("the slot came back although b waits")
		}
		if att, ok := got(b); !ok || att != slot {
			t.Fatalf("b got %v, %v; want the slot a left behind", att, ok)
		}
	})
	t.Run("a slot nobody is left to take comes back", func(t *testing.T) {
		var w waiters
		a := w.join(1)
		popped := w.pop(1)
		w.leave(1, a)
		if left := w.give(1, popped, slot); left != slot {
			t.Fatalf("give to a waiter gone with nobody behind it returned %v, want the slot", left)
		}
	})
	t.Run("a slot handed but not taken passes on, or comes back", func(t *testing.T) {
		var w waiters
		a, b := w.join(1), w.join(1)
		w.give(1, w.pop(1), slot)
		if left := w.leave(1, a); left != nil {
			t.Fatal("leave returned the slot although b waits")
		}
		if att, ok := got(b); !ok || att != slot {
			t.Fatalf("b got %v, %v; want the slot a did not take", att, ok)
		}
		c := w.join(1)
		w.give(1, w.pop(1), slot)
		if left := w.leave(1, c); left != slot {
			t.Fatalf("the last waiter left with a slot: leave returned %v, want the slot", left)
		}
	})
	t.Run("the first in line passes its turn when it leaves", func(t *testing.T) {
		var w waiters
		a, b, c := w.join(1), w.join(1), w.join(1)
		w.leave(1, b) // not first: nobody is woken
		if _, ok := got(c); ok {
			t.Fatal("a waiter leaving from the middle woke another")
		}
		w.leave(1, a)
		if att, ok := got(c); !ok || att != nil {
			t.Fatalf("c got %v, %v after the first in line left; want a nil turn", att, ok)
		}
		if len(w.m) != 0 {
			t.Errorf("waiters left behind: %v", w.m)
		}
	})
}
