package protocol

import (
	"strings"

	"github.com/hsmcards/hsmcards/audit"
)

// Title names an operation the way the wizard's menu does.
func Title(op audit.Operation) string {
	switch op {
	case audit.OpInstall:
		return "Install Backup Key"
	case audit.OpLoad:
		return "Load Backup Key"
	case audit.OpCopy:
		return "Copy share card"
	case audit.OpChangePIN:
		return "Change slot PIN"
	case audit.OpInspect:
		return "Inspect cards"
	case audit.OpEnroll:
		return "Enroll PKCS#11 slot user card"
	case audit.OpActivate:
		return "Activate PKCS#11 slot"
	case audit.OpRevoke:
		return "Revoke PKCS#11 slot user card"
	}
	// An operation of a newer program (verify, re-issue, erase...): its
	// own name, readable.
	s := strings.ReplaceAll(string(op), "_", " ")
	if s == "" {
		return "Unnamed operation"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// stepWord says what a step did.
func stepWord(s audit.Step) string {
	switch s {
	case audit.StepStart:
		return "started"
	case audit.StepGenerate:
		return "Backup Key generated"
	case audit.StepIdentify:
		return "card inserted"
	case audit.StepVerifyPIN:
		return "PIN entered"
	case audit.StepChangePIN:
		return "PIN changed"
	case audit.StepWriteCard:
		return "share written"
	case audit.StepReadCard:
		return "share read"
	case audit.StepLoadHSM:
		return "key loaded into the HSM"
	case audit.StepSummary:
		return "finished"
	case audit.StepEnd:
		return "ended"
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

// doneWord is what a step that went well did with a card, for the card
// table; "" for steps every card goes through (insert, PIN).
func doneWord(op audit.Operation, s audit.Step) string {
	switch s {
	case audit.StepIdentify:
		if op == audit.OpInspect {
			return "inspected"
		}
		return ""
	case audit.StepVerifyPIN, audit.StepStart:
		return ""
	case audit.StepSummary:
		switch op {
		case audit.OpEnroll:
			return "enrolled"
		case audit.OpActivate:
			return "activated the slot"
		case audit.OpRevoke:
			return "revoked"
		}
		return ""
	}
	return stepWord(s)
}

// outcomeWord says how something ended.
func outcomeWord(o audit.Outcome) string {
	switch o {
	case audit.OutcomeOK:
		return "done"
	case audit.OutcomeWrongPIN:
		return "wrong PIN"
	case audit.OutcomeBlocked:
		return "PIN blocked"
	case audit.OutcomeRefused:
		return "refused"
	case audit.OutcomeTimeout:
		return "timed out"
	case audit.OutcomeRemoved:
		return "card taken out"
	case audit.OutcomeNoReader:
		return "reader gone"
	case audit.OutcomeCancelled:
		return "cancelled"
	case audit.OutcomeError:
		return "failed"
	case "":
		return "no summary recorded"
	}
	return strings.ReplaceAll(string(o), "_", " ")
}
