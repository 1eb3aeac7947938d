package authn

// CachedTokens is how many verified tokens v remembers.
func CachedTokens(v *Verifier) int { return v.cache.len() }
