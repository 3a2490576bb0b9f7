package mediation

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"yizhan/store"
)

// Templates per kind and case category (Chinese, seeded by migration 003, edited by
// admins), filled from the case; and the centres' seal images, uploaded by admins and
// printed on sealed documents.

// docTemplates serves the templates and seal images. Static after construction.
type docTemplates struct {
	*docCore
}

// template picks the template of kind for category (or the case's category), falling
// back to the generic one.
func (d *docTemplates) template(ctx context.Context, kind, category, caseCategory string) (store.DocTemplate, error) {
	if category == "" {
		category = caseCategory
	}
	t, err := d.st.DocTemplate(ctx, kind, category)
	if errors.Is(err, store.ErrNotFound) {
		t, err = d.st.DocTemplate(ctx, kind, store.TplGeneric)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.DocTemplate{Kind: kind, Title: map[string]string{"minutes": "调解笔录", "agreement": "人民调解协议书"}[kind]}, nil
	}
	return t, err
}

// fill replaces the template's {{...}} fields with what the case holds.
func (d *docTemplates) fill(ctx context.Context, body string, c store.Case) string {
	centre, _ := d.st.Centre(ctx, c.Centre)
	mediator := c.Mediator
	if st, err := d.st.Staff(ctx, c.Mediator); err == nil {
		mediator = st.Name
	}
	var parties []string
	for _, p := range c.Parties {
		parties = append(parties, signerRole("party", p.Side)+"："+p.Name)
	}
	facts := strings.TrimSpace(c.Description)
	if facts == "" {
		facts = c.Title
	}
	return strings.NewReplacer(
		"{{案号}}", c.Number,
		"{{调解组织}}", centre.Name,
		"{{当事人}}", strings.Join(parties, "\n"),
		"{{案情}}", facts,
		"{{调解员}}", mediator,
		"{{日期}}", d.now().In(time.FixedZone("CST", 8*3600)).Format("2006年1月2日"),
		"{{履行}}", "",
	).Replace(body)
}

type templateJSON struct {
	Kind      string  `json:"kind"`
	Category  string  `json:"category"`
	Title     string  `json:"title"`
	Body      string  `json:"body"`
	UpdatedBy string  `json:"updated_by"`
	UpdatedAt *string `json:"updated_at"`
}

func (d *docTemplates) templates(w http.ResponseWriter, r *http.Request, a *actor) error {
	ts, err := d.st.DocTemplates(r.Context())
	if err != nil {
		return err
	}
	out := []templateJSON{}
	for _, t := range ts {
		out = append(out, templateJSON{t.Kind, t.Category, t.Title, t.Body, t.UpdatedBy, jsonTime(t.UpdatedAt)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
	return nil
}

func (d *docTemplates) putTemplate(w http.ResponseWriter, r *http.Request, a *actor) error {
	if !a.Has("admin") {
		return errForbidden
	}
	var req struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	kind, cat := r.PathValue("kind"), r.PathValue("category")
	switch {
	case kind != "minutes" && kind != "agreement":
		return badRequest("kind must be minutes or agreement")
	case cat != store.TplGeneric && !store.OneOf(cat, store.Categories):
		return badRequest("category must be generic or one of %s", strings.Join(store.Categories, ", "))
	case strings.TrimSpace(req.Title) == "" || strings.TrimSpace(req.Body) == "":
		return badRequest("title and body are required")
	}
	if err := checkLen("body", req.Body, maxDocBody); err != nil {
		return err
	}
	if err := checkLen("title", req.Title, 200); err != nil {
		return err
	}
	if err := d.st.PutDocTemplate(r.Context(), store.DocTemplate{Kind: kind, Category: cat, Title: strings.TrimSpace(req.Title), Body: req.Body, UpdatedBy: a.Username}); err != nil {
		return err
	}
	t, err := d.st.DocTemplate(r.Context(), kind, cat)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, templateJSON{t.Kind, t.Category, t.Title, t.Body, t.UpdatedBy, jsonTime(t.UpdatedAt)})
	return nil
}

// sealCentre resolves {code} to a centre the actor can see.
func (d *docTemplates) sealCentre(r *http.Request, a *actor) (string, error) {
	code := r.PathValue("code")
	if _, err := d.st.Centre(r.Context(), code); err != nil {
		return "", notFound("centre")
	}
	ok, err := d.svc.canSee(r.Context(), a, code)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", notFound("centre")
	}
	return code, nil
}

func (d *docTemplates) sealImage(w http.ResponseWriter, r *http.Request, a *actor) error {
	code, err := d.sealCentre(r, a)
	if err != nil {
		return err
	}
	b, err := d.st.SealImage(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("seal image")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
	return nil
}

func (d *docTemplates) putSealImage(w http.ResponseWriter, r *http.Request, a *actor) error {
	code, err := d.sealCentre(r, a)
	if err != nil {
		return err
	}
	if !a.Has("admin") {
		return errForbidden
	}
	var req struct {
		PNG string `json:"png"`
	}
	if err := decodeMax(w, r, &req, false, maxSignBody); err != nil {
		return err
	}
	b, err := decodePNG("png", req.PNG)
	if err != nil {
		return err
	}
	if err := d.st.PutSealImage(r.Context(), code, b, a.Username); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
