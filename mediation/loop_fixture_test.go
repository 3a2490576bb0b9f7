package mediation

import (
	"fmt"
	"time"

	"yizhan/store"
)

// loopScene is what the authorization matrix needs for the loop's endpoints: a case of
// east with an open alert, a transfer waiting for east-v and an open supervision item,
// and a closed case.
type loopScene struct {
	caseID, closedID           int64
	alertID, transferID, supID int64
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
	return fmt.Sprintf("loop=%s/%s/%d x=%s alert=%s tr=%s sup=%v alerts=%d transfers=%d deps=%d",
		c.Status, c.Centre, len(tl), x.Status, al.AckedBy, tr.State, sp.Done, len(alerts), len(transfers), len(deps))
}
