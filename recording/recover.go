package recording

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"yizhan/recording/webm"
)

// InterruptedReason is what Recover writes into the event log of a session it seals.
const InterruptedReason = "the server stopped while recording (crash, kill or power loss); sealed at the next start"

// Recover finds every session folder under <dataDir>/cases that was left open (marker
// present: the server was killed or crashed), logs an interrupted event with the reason,
// closes out its track files (cutting a torn last block, adding Cues and Duration), and
// seals it. It returns the folders it sealed. Call it at startup, before OpenSession.
// It also closes <dataDir>/cases to everyone but the server's user, as new folders are
// (a data folder from before 0700 folders, or copied with a looser mode).
func Recover(dataDir string, key *Signer, log *slog.Logger) ([]string, error) {
	if log == nil {
		log = slog.Default()
	}
	cases := filepath.Join(dataDir, "cases")
	if fi, err := os.Stat(cases); err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(cases, dirMode); err != nil {
			return nil, fmt.Errorf("close case files to other users: %w", err)
		}
		log.Warn("case files were readable by other users: closed", "dir", cases, "was", fi.Mode().Perm().String())
	}
	markers, err := filepath.Glob(filepath.Join(dataDir, "cases", "*", "*", markerName))
	if err != nil {
		return nil, err
	}
	var sealed []string
	var errs []error
	for _, m := range markers {
		dir := filepath.Dir(m)
		if exists(filepath.Join(dir, manifestName)) {
			// Sealed, but killed before the housekeeping files were removed.
			cleanupSealed(dir)
			continue
		}
		if err := recoverSession(dir, key); err != nil {
			log.Error("recover session", "dir", dir, "err", err)
			errs = append(errs, fmt.Errorf("recover %s: %w", dir, err))
			continue
		}
		log.Warn("sealed interrupted recording", "dir", dir)
		sealed = append(sealed, dir)
	}
	return sealed, errors.Join(errs...)
}

func recoverSession(dir string, key *Signer) error {
	lastWrite := lastModified(dir)
	events, err := OpenEventLog(filepath.Join(dir, eventsName))
	if err != nil {
		return err
	}
	defer events.Close()
	detail := map[string]string{"reason": InterruptedReason, "found_at": time.Now().UTC().Format(time.RFC3339Nano)}
	if !lastWrite.IsZero() {
		detail["last_write"] = lastWrite.UTC().Format(time.RFC3339Nano)
	}
	if n := events.Torn(); n > 0 {
		detail["torn_event_bytes"] = strconv.Itoa(n)
	}
	if _, err := events.Append(Event{Kind: KindInterrupted, Actor: "system", Detail: detail}); err != nil {
		return err
	}
	if err := closeOutTracks(dir, events, "interrupted"); err != nil {
		return err
	}
	if _, err := events.Append(Event{Kind: KindSealed, Actor: "system"}); err != nil {
		return err
	}
	if err := events.Close(); err != nil {
		return err
	}
	_, err = sealDir(dir, key)
	return err
}

// lastModified is the latest modification time of the folder's files: about when the
// recording stopped.
func lastModified(dir string) time.Time {
	var t time.Time
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil && fi.ModTime().After(t) {
				t = fi.ModTime()
			}
		}
		return nil
	})
	return t
}

// trackFiles lists the session's track files, relative paths, top folder then sealed/.
func trackFiles(dir string) []string {
	var out []string
	for _, sub := range []string{"", sealedDir} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".webm") {
				out = append(out, filepath.ToSlash(filepath.Join(sub, e.Name())))
			}
		}
	}
	return out
}

// closeOutTracks finishes every track file that was not closed properly (its writer
// failed, or the process died): the torn tail after the last whole block is cut (it
// cannot be decoded), then Cues, Duration and sizes are written as a normal close would.
// Each is logged. A file that never received a frame (empty, no journal) is removed.
func closeOutTracks(dir string, events *EventLog, reason string) error {
	for _, rel := range trackFiles(dir) {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		j, jerr := readJournal(path + journalSuffix)
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		if jerr != nil && fi.Size() == 0 {
			os.Remove(path)
			continue
		}
		if j != nil && j.end != nil {
			continue
		}
		detail := map[string]string{"file": rel, "reason": reason}
		torn, ferr := closeOutFile(path, fi.Size())
		if ferr != nil {
			detail["error"] = ferr.Error()
		} else {
			detail["torn_bytes"] = strconv.FormatInt(torn, 10)
		}
		subject := ""
		if j != nil && j.start != nil && j.start.Meta != nil {
			subject = j.start.Meta.Identity
		}
		if _, err := events.Append(Event{Kind: KindTrackStopped, Actor: "system", Subject: subject, Detail: detail}); err != nil {
			return err
		}
	}
	return nil
}

func closeOutFile(path string, size int64) (torn int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc, err := webm.Scan(f, size)
	if err != nil {
		return 0, err
	}
	if sc.Finished {
		return 0, nil
	}
	torn = size - sc.GoodEnd
	if torn > 0 {
		if err := f.Truncate(sc.GoodEnd); err != nil {
			return 0, fmt.Errorf("cut torn tail: %w", err)
		}
	}
	w := webm.Resume(f, sc)
	if err := w.Finish(); err != nil {
		return torn, err
	}
	if err := f.Sync(); err != nil {
		return torn, err
	}
	jf, err := os.OpenFile(path+journalSuffix, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err == nil {
		writeJournal(jf, journalEntry{K: "end", Time: time.Now().UTC(), Frames: w.Frames(), Bytes: w.Size(),
			DurationMs: w.DurationMs(), Recovered: true, TornBytes: torn})
		jf.Sync()
		jf.Close()
	}
	return torn, nil
}

// cleanupSealed removes the housekeeping files of a sealed folder (the manifest holds
// their content).
func cleanupSealed(dir string) {
	for _, rel := range trackFiles(dir) {
		os.Remove(filepath.Join(dir, filepath.FromSlash(rel)) + journalSuffix)
	}
	os.Remove(filepath.Join(dir, markerName))
	syncDir(dir)
}
