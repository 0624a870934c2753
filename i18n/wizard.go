package i18n

// The wizard's messages (package wizard): its screens, the drawn PIN pad's
// prompts (Pad... IDs: 2 lines of 16 characters at most), the error
// classifier's words, the help lines. Each ID's value is its name; en.toml
// and de.toml hold the words.

// The main menu.
const (
	MenuTitle ID = "MenuTitle"
)
