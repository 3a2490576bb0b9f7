package recording

import "testing"

func TestSealBookkeeping(t *testing.T) {
	listed := map[string]bool{"video-a-TR_1.webm": true, "sealed/audio-b-TR_2.webm": true}
	for rel, want := range map[string]bool{
		".recording":                       true,
		"video-a-TR_1.webm.journal":        true,
		"sealed/audio-b-TR_2.webm.journal": true,
		"video-x-TR_9.webm.journal":        false, // not a listed track: an added file
		"notes.txt":                        false,
		"sealed/.recording":                false,
	} {
		if got := sealBookkeeping(rel, listed); got != want {
			t.Errorf("%s: %v, want %v", rel, got, want)
		}
	}
}
