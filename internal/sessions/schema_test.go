package sessions

import "testing"

func TestKindOf(t *testing.T) {
	cases := map[string]Kind{
		"META": KindMeta, "TURN#0001": KindTurn, "SUMMARY#3": KindSummary, "HANDOFF#2026-03-25T14:00:00Z": KindHandoff,
		"META#x": KindUnknown, "turn#1": KindUnknown, "": KindUnknown, "FEEDBACK#1": KindUnknown,
	}
	for sk, want := range cases {
		if got := KindOf(sk); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", sk, got, want)
		}
	}
}

func TestSessionIDRoundTrip(t *testing.T) {
	id, ok := SessionID(PK("abc-123"))
	if !ok || id != "abc-123" {
		t.Fatalf("SessionID(PK(abc-123)) = %q, %v", id, ok)
	}
	if _, ok := SessionID("USER#abc"); ok {
		t.Fatal("a key without the session prefix is not a session")
	}
}

func TestValidTableName(t *testing.T) {
	for name, want := range map[string]bool{
		DefaultTableName: true, "a.b_c-1": true, "ab": false, "has space": false, "slash/no": false,
	} {
		if got := ValidTableName(name); got != want {
			t.Errorf("ValidTableName(%q) = %v", name, got)
		}
	}
}
