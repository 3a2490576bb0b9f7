// Package recording writes what it is handed into case files that hold up as evidence:
// WebM track files, a hash-chained event log, a manifest with SHA-256 and SM3 hashes,
// Ed25519 and SM2 signatures; and checks them offline. It imports no package of ours
// but its own subpackages, split by job as pion splits pkg/media:
//
//	recording/framer    RTP -> frames: the jitter buffer (order, loss) and the VP8 depacketizer
//	recording/webm      frames -> one WebM file that survives a kill; Scan and Resume read it back
//	recording           the case file: track writers, events, manifest, sign, verify, recover
//	recording/recorder  the runtime: one case-file session per live session, driven by a Plan
//
// # Track writers
//
// A TrackWriter has the shape of a media sink (media.Sink and media.SenderReportSink):
//
//	WriteRTP(*rtp.Packet) error                      // packet is read-only; we copy what we keep
//	WriteSenderReport(ntpTime uint64, rtpTime uint32) // RTCP SR: places the track on a wall clock
//	Close() error
//
// so a recorder is one more subscriber of an up track. It puts packets back in order
// (framer.Buffer, ~300 ms), depacketizes VP8 (framer.VP8: frames end on the marker bit;
// the file starts at a keyframe and, after a loss, waits for the next one, asking for it
// through TrackMeta.RequestKeyframe) or Opus, and writes WebM (package webm) without
// transcoding.
//
// One file per track ("video-<identity>-<track>.webm", "audio-..."), not per participant:
// tracks start, stop, mute and fail independently; nothing is held in memory to
// interleave them (it would be lost on kill -9); and the manifest's start offsets put
// every file on one session timeline. Only VP8 and Opus are recordable (WebM's codecs);
// H264 is refused with ErrUnsupportedCodec.
//
// Every SimpleBlock goes through to the file as it comes (package webm: a file copied or
// cut at any moment plays, ffmpeg and Chromium, up to its last whole block), with an
// fsync at most once a second.
//
// # Case files
//
// Folders are 0700, files 0600 (the manifest and its signatures 0400 once sealed): evidence
// is readable only by the server's user.
//
//	<data>/cases/<case>/custody.jsonl            who viewed / downloaded / exported (chained)
//	<data>/cases/<case>/<session>[-partN]/
//	    events.jsonl                             one JSON event per line, hash-chained
//	    video-*.webm, audio-*.webm               the tracks
//	    sealed/*.webm                            caucus media (policy "sealed"): restricted
//	    manifest.json, manifest.sig, manifest.sm2.sig   written once, at seal
//
// Every name we put in a path passes CheckName ([A-Za-z0-9][A-Za-z0-9._-]{0,63}).
// Events: {"seq","time","kind","actor","subject","detail","prev"}, prev = hex SHA-256
// of the previous line without its newline (64 zeros for the first); each append is
// fsynced. The manifest lists the session, participants (from participant events),
// consents, every file (size, SHA-256, SM3, duration, start offset on the session
// timeline and how it was found, gaps, status) and the event log's count and last hash.
// manifest.sig is the raw Ed25519 signature of manifest.json (openssl pkeyutl -verify
// -rawin checks it), manifest.sm2.sig the DER SM2 signature (ID "1234567812345678").
// A sealed folder is never written again; a session that goes on after a crash gets a
// new "<session>-part2" folder.
//
// # API for the recorder (package recording/recorder; mediation hands it a Plan)
//
//	key, err := recording.LoadOrCreateKey(dataDir)            // at startup; 0600 PEM files
//	sealed, err := recording.Recover(dataDir, key, log)       // at startup: seal what a crash left open
//	s, err := recording.OpenSession(dataDir, recording.SessionMeta{Case: "C2025-001", Session: "S1",
//	        Title: "...", Kind: "mediation", CaucusPolicy: "off"}, log)
//	s.OnError(func(f recording.TrackFailure) { /* tell the hosts at once */ })
//	s.AddParticipant(recording.Participant{Identity, Name, Role, Side, Centre, JoinedVia})
//	s.Consent(recording.Consent{Identity: "p1", Given: true, Scope: "recording", Notice: "v3"})
//	s.Log(recording.Event{Kind: recording.KindAdmitted, Actor: "med1", Subject: "p1"})
//	w, err := s.NewTrackWriter(recording.TrackMeta{Participant: "张三", Identity: "p1",
//	        TrackSID: "TR_x", MimeType: "video/VP8", Sealed: false, RequestKeyframe: up.RequestKeyframe})
//	detach, err := srv.AttachSink(room, "p1", "TR_x", w)   // media calls WriteRTP / WriteSenderReport
//	w.Close()                                              // recording stopped for this track
//	m, err := s.Seal(key)                                  // session ended: closes writers, signs
//
// # API for the mediation layer (reading case files)
//
//	recording.CaseFolder(caseID, number), recording.SessionFolder(sessionID)
//	recording.ListCase(dataDir, caseNo) / recording.OpenCaseFile(dataDir, caseNo, path)
//	recording.OpenCustodyLog(dataDir, caseNo)              // log KindViewed / KindDownloaded
//
// # API for cmd/yizhan
//
//	yizhan signing-key:  k, _ := recording.LoadOrCreateKey(dataDir); os.Stdout.Write(k.Public().PEM())
//	/api/signing-key:    the same PEM (text/plain) or k.Public().Ed25519Base64()
//	yizhan verify PATH:  trusted, _ := recording.LoadPublicKey(dataDir) // or ParsePublicKeyPEM(--key file)
//	                     r, err := recording.Verify(PATH, trusted)      // trusted may be nil
//	                     fmt.Print(r.Summary()); if err != nil { os.Exit(1) }
//	yizhan export:       recording.Export(ctx, sessionDir, "out.mp4", func(f float64) { bar(f) })
//	                     // errors.Is(err, recording.ErrNoFFmpeg) when ffmpeg is missing
//
// Verify checks a case folder (every session, the custody chain) or one session folder:
// the signatures (pinned to trusted when given), the event chain, count and last hash,
// every file's size, SHA-256 and SM3, and that no file was added. The error names the
// first mismatch; Report lists all checks.
//
// # Known gaps
//
// H264 tracks are not recorded (WebM has no H264; Matroska with an avcC would do).
// A VP8 resolution change mid-track keeps the first keyframe's size in the header
// (decoders follow the stream). The composite export uses one tile per video file, not
// per participant, and leaves out restricted (caucus) files.
package recording
