package projects

import (
	"testing"

	"github.com/fsnotify/fsnotify"
)

func TestWatchRelevant(t *testing.T) {
	rw := &watch{roots: []string{"/p/shop"}}
	tests := []struct {
		name string
		ev   fsnotify.Event
		want bool
	}{
		{"write in the project", fsnotify.Event{Name: "/p/shop/f.xml", Op: fsnotify.Write}, true},
		{"create in a subdirectory", fsnotify.Event{Name: "/p/shop/a/b/f.xml", Op: fsnotify.Create}, true},
		{"remove", fsnotify.Event{Name: "/p/shop/f.xml", Op: fsnotify.Remove}, true},
		{"rename", fsnotify.Event{Name: "/p/shop/f.xml", Op: fsnotify.Rename}, true},
		{"the project directory itself (replaced)", fsnotify.Event{Name: "/p/shop", Op: fsnotify.Create}, true},
		{"kubernetes ConfigMap swap", fsnotify.Event{Name: "/p/shop/..data", Op: fsnotify.Create}, true},
		{"attribute change only", fsnotify.Event{Name: "/p/shop/f.xml", Op: fsnotify.Chmod}, false},
		{"write and chmod", fsnotify.Event{Name: "/p/shop/f.xml", Op: fsnotify.Write | fsnotify.Chmod}, true},
		{"sibling of the project in the parent", fsnotify.Event{Name: "/p/shopping/f.xml", Op: fsnotify.Write}, false},
		{"another file in the parent", fsnotify.Event{Name: "/p/notes.txt", Op: fsnotify.Write}, false},
		{"vim swap file", fsnotify.Event{Name: "/p/shop/.f.xml.swp", Op: fsnotify.Write}, false},
		{"vim backup file", fsnotify.Event{Name: "/p/shop/f.xml~", Op: fsnotify.Create}, false},
		{"emacs lock file", fsnotify.Event{Name: "/p/shop/.#f.xml", Op: fsnotify.Create}, false},
		{"emacs auto-save file", fsnotify.Event{Name: "/p/shop/#f.xml#", Op: fsnotify.Write}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rw.relevant(tc.ev); got != tc.want {
				t.Errorf("relevant(%v) = %v, want %v", tc.ev, got, tc.want)
			}
		})
	}
}

// TestReportStrings checks the one-line report texts.
