package threading

import "testing"

func TestThreadIndexRoot(t *testing.T) {
	// A real Outlook Thread-Index: 22-byte root, then 5-byte child blocks.
	root, ok := ThreadIndexRoot("AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOg==")
	reply, ok2 := ThreadIndexRoot("AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOgAABDfg")
	if !ok || !ok2 || root != reply || len(root) != 44 {
		t.Fatalf("roots %q (%v) and %q (%v) should be equal 22-byte roots", root, ok, reply, ok2)
	}
	other, _ := ThreadIndexRoot("AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOx==")
	if other == root {
		t.Fatal("a different conversation has the same root")
	}
	for _, bad := range []string{"", "not base64!", "AAAA"} {
		if _, ok := ThreadIndexRoot(bad); ok {
			t.Errorf("ThreadIndexRoot(%q) accepted", bad)
		}
	}
}
