package mediation

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"yizhan/store"
)

// loopScene is what the authorization matrix needs for the loop's endpoints: a case of
// east with an open alert, a transfer waiting for east-v and an open supervision item,
// and a closed case.
type loopScene struct {
	caseID, closedID           int64
	alertID, transferID, supID int64
	tracking                   string // a closed request's tracking code
	slotID                     int64  // a slot of east's leader
	photo                      string // a photo of the loop case
}

func (fx *fixture) loopScene() loopScene {
	fx.t.Helper()
	ctx := fx.ctx
	var ls loopScene
	c, err := fx.st.CreateCase(ctx, store.Case{Title: "loop", Category: "land", Risk: "yellow", Centre: "east", Mediator: "med"})
	if err != nil {
		fx.t.Fatal(err)
	}
	ls.caseID = c.ID
	_, alerts, err := fx.st.Assess(ctx, store.Assessment{CaseID: c.ID, Board: "dispute", Category: "land", Risk: "red",
		Alerts: []store.Alert{{Centre: "east", Kind: "red", AckBy: time.Now().Add(time.Hour)}}})
	if err != nil || len(alerts) != 1 {
		fx.t.Fatal(err, alerts)
	}
	ls.alertID = alerts[0].ID
	tr, err := fx.st.CreateTransfer(ctx, store.Transfer{CaseID: c.ID, ToCentre: "east-v", Reason: "r", Deadline: time.Now().Add(time.Hour), CreatedBy: "med"})
	if err != nil {
		fx.t.Fatal(err)
	}
	ls.transferID = tr.ID
	sp, err := fx.st.AddSupervision(ctx, store.SupervisionItem{Supervision: store.Supervision{CaseID: c.ID, Unit: "u", Deadline: time.Now().Add(time.Hour)}})
	if err != nil {
		fx.t.Fatal(err)
	}
	ls.supID = sp.ID
	x, err := fx.st.CreateCase(ctx, store.Case{Title: "closed", Category: "land", Risk: "blue", Centre: "east"})
	if err != nil {
		fx.t.Fatal(err)
	}
	if _, err := fx.st.CloseCase(ctx, x.ID, "done", "phone", "med"); err != nil {
		fx.t.Fatal(err)
	}
	ls.closedID = x.ID
	ls.tracking = trackingCode()
	tc, err := fx.st.CreateCase(ctx, store.Case{Title: "tracked", Category: "land", Risk: "blue", Centre: "east", TrackingCode: ls.tracking, Channel: "qr",
		Parties: []store.Party{{Name: "Citizen", Side: "applicant", Phone: "13000000000"}}})
	if err != nil {
		fx.t.Fatal(err)
	}
	if _, err := fx.st.CloseCase(ctx, tc.ID, "done", "phone", "med"); err != nil {
		fx.t.Fatal(err)
	}
	sl, err := fx.st.AddSlot(ctx, store.Slot{Centre: "east", Leader: "lead", StartsAt: time.Now().Add(time.Hour), EndsAt: time.Now().Add(2 * time.Hour), Capacity: 50, CreatedBy: "lead"},
		"slot", "slot", "s-"+randomCode(10))
	if err != nil {
		fx.t.Fatal(err)
	}
	ls.slotID = sl.ID
	if _, err := fx.svc.intake.dutySession(ctx, "east"); err != nil { // before any fingerprint
		fx.t.Fatal(err)
	}
	ls.photo = randomCode(16) + ".jpg"
	if err := os.MkdirAll(fx.svc.intake.photoDir, 0o750); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fx.svc.intake.photoDir, ls.photo), []byte("\xff\xd8\xff"), 0o640); err != nil {
		fx.t.Fatal(err)
	}
	if err := fx.st.AddPhoto(ctx, c.ID, ls.photo, 3); err != nil {
		fx.t.Fatal(err)
	}
	return ls
}

// loopFingerprint: everything the loop's calls could change.
func (fx *fixture) loopFingerprint(ls loopScene) string {
	ctx := fx.ctx
	c, _ := fx.st.Case(ctx, ls.caseID)
	x, _ := fx.st.Case(ctx, ls.closedID)
	al, _ := fx.st.Alert(ctx, ls.alertID)
	tr, _ := fx.st.Transfer(ctx, ls.transferID)
	sp, _ := fx.st.SupervisionItem(ctx, ls.supID)
	alerts, _ := fx.st.Alerts(ctx, "city", false)
	transfers, _ := fx.st.Transfers(ctx, 0, "city", false)
	deps, _ := fx.st.Departments(ctx, "east")
	tl, _ := fx.st.Timeline(ctx, ls.caseID)
	tc, _ := fx.st.CaseByTracking(ctx, ls.tracking)
	duty, _ := fx.svc.intake.dutySession(ctx, "east")
	slots, _ := fx.st.Slots(ctx, "east", time.Now())
	return fmt.Sprintf("loop=%s/%s/%d x=%s alert=%s tr=%s sup=%v alerts=%d transfers=%d deps=%d tracked=%d duty=%v slots=%d",
		c.Status, c.Centre, len(tl), x.Status, al.AckedBy, tr.State, sp.Done, len(alerts), len(transfers), len(deps), tc.Satisfaction, duty.Hosts, len(slots))
}
