package fingerprint

// Count is how many events of one fingerprint a build has.
type Count struct {
	Print
	Events int64
}

// Delta compares a build's fingerprints with its reference's: New are the build's that the
// reference lacks, Fixed the reference's that the build lacks, Outstanding those of both
// (with the build's counts). Each keeps the order it had in its input.
type Delta struct {
	New, Fixed, Outstanding []Count
}

// Compare is the delta of build against reference.
func Compare(build, reference []Count) Delta {
	inRef := make(map[string]bool, len(reference))
	for _, c := range reference {
		inRef[c.Hash] = true
	}
	inBuild := make(map[string]bool, len(build))
	var d Delta
	for _, c := range build {
		inBuild[c.Hash] = true
		if inRef[c.Hash] {
			d.Outstanding = append(d.Outstanding, c)
		} else {
			d.New = append(d.New, c)
		}
	}
	for _, c := range reference {
		if !inBuild[c.Hash] {
			d.Fixed = append(d.Fixed, c)
		}
	}
	return d
}
