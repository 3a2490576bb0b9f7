package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"yizhan/mediation"
	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/store"
	"yizhan/web"
)

// dbFile is the SQLite database inside --data.
const dbFile = "yizhan.db"

// mountParts wires the parts above signaling: the store, mediation (the /api and the
// room policy), recording, and the web app. The web app is mounted last, at "/", so
// that /rtc, /api and /dev win.
func (a *app) mountParts() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(a.cfg.Data, dbFile), a.log.With("part", "store"))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	a.close = append(a.close, func() { _ = st.Close() })

	// Recording: the signing key, then seal what a crash left open before anything records.
	key, err := recording.LoadOrCreateKey(a.cfg.Data)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	recLog := a.log.With("part", "recording")
	if _, err := recording.Recover(a.cfg.Data, key, recLog); err != nil {
		recLog.Error("some interrupted recordings could not be sealed; retried at the next start", "err", err)
	}
	rec := recorder.New(recorder.Config{DataDir: a.cfg.Data, Key: key, Rooms: mediation.RecorderRooms(a.sig), Logger: recLog})

	pub := key.Public()
	// Lectures: the program (HLS and archive) under --data/live, served at /live/ for an
	// HTTP cache or CDN in front.
	lectures := mediation.LectureConfig{MaxWebRTC: a.cfg.LectureMaxWebRTC}
	if a.cfg.LectureHLS {
		program := mediation.NewLectureProgram(mediation.LectureProgramConfig{Dir: filepath.Join(a.cfg.Data, "live"), Rooms: a.sig,
			PublicBase: a.cfg.LectureHLSBase, Logger: a.log.With("part", "lectures")})
		a.drain = append(a.drain, program.Close)
		a.mux.Handle("/live/", program.Handler())
		lectures.Program = program
	}
	svc := mediation.New(mediation.Config{Recorder: rec, CaseDir: a.cfg.Data, CaseKey: &pub, Documents: a.cfg.documentsConfig(key, a.log),
		Lectures: lectures, PublicURL: a.publicURL}, st, a.sig, a.log)
	rec.OnError(svc.RecordingFailed) // before any session starts: the hosts hear of failures
	rec.OnState(svc.RecordingChanged)
	a.sig.SetHooks(svc)
	a.close = append(a.close, svc.Close)
	a.drain = append(a.drain, rec.Close) // seals open sessions before the rooms close
	a.setRecordingStats(rec.Stats)
	a.addLimitSource(svc.LimitHits)
	a.mux.Handle("/api/", a.instrumentAPI(svc.Handler()))

	if a.cfg.Dev {
		demo, err := mediation.SeedDemo(ctx, st)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		a.demo = &demo
	}
	a.mux.Handle("/", web.Handler())
	return nil
}
