package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"

	"yizhan/docpdf"
	"yizhan/mediation"
	"yizhan/recording"
)

// documentFlags: the sealed documents' PDF font and the SMS gateway for one-time codes
// (issue 10).
func documentFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.StringVar(&c.PDFFont, "pdf-font", envOr("YIZHAN_PDF_FONT", docpdf.DefaultFont),
		"TrueType font with Chinese glyphs for sealed PDF documents (Debian fonts-droid-fallback) (env YIZHAN_PDF_FONT)")
	fs.StringVar(&c.SMSWebhook, "sms-webhook", envOr("YIZHAN_SMS_WEBHOOK", ""),
		"URL that receives POST {\"phone\",\"text\"} to send a signer's one-time code; empty: the mediator attests identity (env YIZHAN_SMS_WEBHOOK)")
}

func (c serveConfig) validateDocuments() error {
	if c.SMSWebhook == "" {
		return nil
	}
	u, err := url.Parse(c.SMSWebhook)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--sms-webhook %q: an http:// or https:// URL is required", c.SMSWebhook)
	}
	return nil
}

// documentsConfig is the documents part's config; a missing font is said at startup
// (sealing would fail with the same message), not fatal: drafting and signing work.
func (c serveConfig) documentsConfig(key *recording.Signer, log *slog.Logger) mediation.DocumentsConfig {
	if err := docpdf.CheckFont(c.PDFFont); err != nil {
		log.Error("sealed documents cannot be rendered until the font is there", "err", err)
	}
	return mediation.DocumentsConfig{DataDir: c.Data, Key: key, PDFFont: c.PDFFont, SMSWebhook: c.SMSWebhook}
}
