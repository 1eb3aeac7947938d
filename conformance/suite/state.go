package suite

// state is what earlier checks leave for later ones: tokens, the ids of what was stored.
type state struct {
	realm, service string
	token, token2  string
}
