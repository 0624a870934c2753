package protocol

import (
	"strings"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
)

// Title names an operation the way the wizard's menu does, in p's language.
func Title(p *i18n.Printer, op audit.Operation) string {
	switch op {
	case audit.OpInstall:
		return p.T(i18n.OpInstall)
	case audit.OpLoad:
		return p.T(i18n.OpLoad)
	case audit.OpCopy:
		return p.T(i18n.OpCopy)
	case audit.OpChangePIN:
		return p.T(i18n.OpChangePIN)
	case audit.OpInspect:
		return p.T(i18n.OpInspect)
	case audit.OpEnroll:
		return p.T(i18n.OpEnroll)
	case audit.OpActivate:
		return p.T(i18n.OpActivate)
	case audit.OpRevoke:
		return p.T(i18n.OpRevoke)
	case audit.OpVerify:
		return p.T(i18n.OpVerify)
	case audit.OpReissue:
		return p.T(i18n.OpReissue)
	case audit.OpErase:
		return p.T(i18n.OpErase)
	}
	// An operation of a newer program: its own name from the trail,
	// readable.
	s := strings.ReplaceAll(string(op), "_", " ")
	if s == "" {
		return p.T(i18n.OpUnnamed)
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// stepWord says what a step did.
func stepWord(p *i18n.Printer, s audit.Step) string {
	switch s {
	case audit.StepStart:
		return p.T(i18n.StepStart)
	case audit.StepGenerate:
		return p.T(i18n.StepGenerate)
	case audit.StepIdentify:
		return p.T(i18n.StepIdentify)
	case audit.StepVerifyPIN:
		return p.T(i18n.StepVerifyPIN)
	case audit.StepChangePIN:
		return p.T(i18n.StepChangePIN)
	case audit.StepWriteCard:
		return p.T(i18n.StepWriteCard)
	case audit.StepReadCard:
		return p.T(i18n.StepReadCard)
	case audit.StepLoadHSM:
		return p.T(i18n.StepLoadHSM)
	case audit.StepSummary:
		return p.T(i18n.StepSummary)
	case audit.StepEnd:
		return p.T(i18n.StepEnd)
	case audit.StepVerdict:
		return p.T(i18n.StepVerdict)
	case audit.StepRebuild:
		return p.T(i18n.StepRebuild)
	case audit.StepPlan:
		return p.T(i18n.StepPlan)
	case audit.StepCommit:
		return p.T(i18n.StepCommit)
	case audit.StepErase:
		return p.T(i18n.StepErase)
	case audit.StepRegister:
		return p.T(i18n.StepRegister)
	}
	return strings.ReplaceAll(string(s), "_", " ") // a newer program's step, by its name
}

// isDone says whether a step that went well counts as something done with
// its card, for the card table: not the steps every card goes through
// (insert, PIN), nor a summary that does nothing of its own.
func isDone(op audit.Operation, s audit.Step) bool {
	switch s {
	case audit.StepIdentify:
		return op == audit.OpInspect
	case audit.StepVerifyPIN, audit.StepStart:
		return false
	case audit.StepSummary:
		return op == audit.OpEnroll || op == audit.OpActivate || op == audit.OpRevoke
	}
	return true
}

// doneWord says what step s of operation op did with a card (isDone).
func doneWord(p *i18n.Printer, op audit.Operation, s audit.Step) string {
	switch {
	case s == audit.StepIdentify:
		return p.T(i18n.DoneInspected)
	case s == audit.StepSummary && op == audit.OpEnroll:
		return p.T(i18n.DoneEnrolled)
	case s == audit.StepSummary && op == audit.OpActivate:
		return p.T(i18n.DoneActivated)
	case s == audit.StepSummary && op == audit.OpRevoke:
		return p.T(i18n.DoneRevoked)
	}
	return stepWord(p, s)
}

// outcomeWord says how something ended.
func outcomeWord(p *i18n.Printer, o audit.Outcome) string {
	switch o {
	case audit.OutcomeOK:
		return p.T(i18n.OutcomeOK)
	case audit.OutcomeWrongPIN:
		return p.T(i18n.OutcomeWrongPIN)
	case audit.OutcomeBlocked:
		return p.T(i18n.OutcomeBlocked)
	case audit.OutcomeRefused:
		return p.T(i18n.OutcomeRefused)
	case audit.OutcomeTimeout:
		return p.T(i18n.OutcomeTimeout)
	case audit.OutcomeRemoved:
		return p.T(i18n.OutcomeRemoved)
	case audit.OutcomeNoReader:
		return p.T(i18n.OutcomeNoReader)
	case audit.OutcomeCancelled:
		return p.T(i18n.OutcomeCancelled)
	case audit.OutcomeError:
		return p.T(i18n.OutcomeError)
	case "":
		return p.T(i18n.OutcomeNone)
	}
	return strings.ReplaceAll(string(o), "_", " ") // a newer program's outcome, by its name
}
