package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"yizhan/mediation"
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

	svc := mediation.New(mediation.Config{}, st, a.sig, a.log)
	a.sig.SetHooks(svc)
	a.close = append(a.close, svc.Close)
	a.mux.Handle("/api/", svc.Handler())

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
