package tcos

// The card profile's identifiers, exported for the card side (tcos/simcard,
// training props): one home for the FIDs, references and instruction bytes
// that docs/tcos.md lists. The host side above uses the same values under
// its own unexported names, which these are defined from.

// Files of the profile (docs/tcos.md "Card profile").
const (
	FIDMF          = fidMF          // master file
	FIDGDO         = fidGDO         // EF.GDO in the MF: 5A 0A + ICCSN
	FIDBackupDF    = fidBackupDF    // DF of the Backup Key share slot
	FIDShareEF     = fidShareEF     // EF of the share record, in DF 4B00
	FIDPKCS11DF    = fidPKCS11DF    // DF of the PKCS#11 slot user slot
	FIDPublicKeyEF = fidPublicKeyEF // EF of the slot user public key, in DF 4C00
	SFIGDO         = sfiGDO         // short EF identifier of EF.GDO
	// PINRef is the local PIN of each slot DF (P2 of VERIFY and CHANGE
	// REFERENCE DATA: local PIN 1 is 81, TCOS sets bit 8 for local PINs).
	PINRef = pinRef
	// GDOLen is the length of EF.GDO: tag 5A, length 0A, the 10-byte ICCSN.
	GDOLen = gdoLen
	// TagICCSN is the tag of the card serial in EF.GDO.
	TagICCSN = tagICCSN
)

// FactoryPIN is the slot PIN of a new card: "These PINs are preset to
// 123456" (the appliance manual, Smart Card Handling).
const FactoryPIN = "123456"

// Class bytes (ISO 7816-4 §5.4.1).
const (
	CLAISO = 0x00
	// CLATCOS is the proprietary class of TCOS's own commands (LIST FILES).
	CLATCOS = 0x80
	// CLAChain marks a command that a further one of the chain follows.
	CLAChain = claChain
)

// Instruction bytes the profile and the simulated card know (ISO 7816-4 §11
// and OpenSC's card-tcos.c for LIST FILES; docs/tcos.md "Commands").
const (
	INSSelect          = insSelect
	INSReadBinary      = insRead
	INSUpdateBinary    = insUpdate
	INSVerify          = insVerify
	INSChangeRef       = insChangeRef
	INSGetResponse     = 0xC0
	INSGetChallenge    = 0x84
	INSListFiles       = 0xAA // CLA 80
	INSGenerateKeyPair = insGenKeyPair
	INSMSE             = insMSE
	INSPSO             = insPSO
)

// Parameters of the key pair commands (docs/tcos.md "Commands").
const (
	MSESetP1, MSESetP2           = mseP1, mseP2       // MSE SET for decipher, confidentiality template
	PSODecipherP1, PSODecipherP2 = psoDecP1, psoDecP2 // PSO DECIPHER: plain value out, padding indicator || cryptogram in
	TagAlgRef                    = tagAlgRef          // MSE data object: algorithm reference
	TagKeyRef                    = tagKeyRef          // MSE data object: private key reference
)
