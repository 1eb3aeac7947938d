package rows

import "github.com/spackmon/spackmon/services/ingest/store"

// ChangedPhase is a row of readsql's ChangedPhases: the phase's id, to read its errors by,
// and what a watcher is told.
type ChangedPhase struct {
	ID int64
	store.PhaseChange
}

// ChangedPhases reads the rows of readsql's ChangedPhases.
func ChangedPhases() Reader[ChangedPhase] {
	v := new(ChangedPhase)
	return Reader[ChangedPhase]{
		dest: []any{&v.ID, &v.Revision, &v.Name, &v.Status, &v.OutputBytes, &v.ErrorCount, &v.WarningCount,
			&v.ErrorsTotal, &v.WarningsTotal},
		value: func() (ChangedPhase, error) { return *v, nil },
	}
}

// ScanBuildRevision reads the row of readsql's BuildRevision into c.
func ScanBuildRevision(r Scanner, c *store.BuildChanges) error {
	return r.Scan(&c.Revision, &c.Status, &c.StatusRevision)
}

// AddPhaseChanges puts the changed phases into c, each with the errors errorsOf reads.
func AddPhaseChanges(c *store.BuildChanges, phases []ChangedPhase, errorsOf func(phaseID int64) ([]store.PhaseEvent, error)) error {
	for _, p := range phases {
		events, err := errorsOf(p.ID)
		if err != nil {
			return err
		}
		for _, e := range events {
			p.Errors = append(p.Errors, e.Event)
		}
		c.Phases = append(c.Phases, p.PhaseChange)
	}
	return nil
}
