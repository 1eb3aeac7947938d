package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
)

// The SQLite driver compiles every statement it is given (and with it the programs of the
// triggers the statement fires) unless the statement was prepared: about a tenth of the
// CPU of a phase upload. The stores pass SQL text to ExecContext and QueryContext, so the
// connections keep what they prepare, by text, and run it again.

// maxCachedStmts bounds the statements a connection keeps; the stores' statements are a
// few hundred constant texts, and a text built per call only costs the cache a slot.
const maxCachedStmts = 256

// openCaching opens dsn with the SQLite driver through connections that keep their
// prepared statements; detached ones ignore the end of their statements' contexts.
func openCaching(dsn string, detached bool) (*sql.DB, error) {
	// sql.Open makes no connection: it only finds the driver and checks the name.
	probe, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	if err := probe.Close(); err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{driver: d, dsn: dsn, detached: detached}), nil
}

// cachingConnector opens driver connections that keep their prepared statements.
type cachingConnector struct {
	driver   driver.Driver
	dsn      string
	detached bool
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: conn, stmts: map[string]*cachedStmt{}, detached: c.detached}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.driver }

// The driver interfaces a cachingConn passes on: those of the SQLite driver's connection
// that database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is used by one goroutine at a time, as database/sql uses a connection.
type cachingConn struct {
	conn  driver.Conn
	stmts map[string]*cachedStmt
	// detached: the driver interrupts a statement whose context ends, and SQLite then
	// may roll back the whole transaction, which on the writer holds other callers'
	// work. So the writer's statements run to their end; the batch checks the caller's
	// context after fn and undoes fn's savepoint (database/sql still refuses to start a
	// statement for an ended context, and stops reading rows).
	detached bool
}

func (c *cachingConn) statementContext(ctx context.Context) context.Context {
	if c.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// cachedStmt is a prepared statement; busy while it runs or its rows are open, when a
// second use of the same text prepares a statement of its own.
type cachedStmt struct {
	stmt driver.Stmt
	busy bool
}

var errNotSQLite = errors.New("db: the driver connection lacks an interface of the SQLite driver's")

func (c *cachingConn) inner() (sqliteConn, error) {
	sc, ok := c.conn.(sqliteConn)
	if !ok {
		return nil, errNotSQLite
	}
	return sc, nil
}

// stmt is the statement of query and what to call when done with it.
func (c *cachingConn) stmt(ctx context.Context, query string) (driver.Stmt, func(), error) {
	sc, err := c.inner()
	if err != nil {
		return nil, nil, err
	}
	if cs := c.stmts[query]; cs != nil {
		if !cs.busy {
			cs.busy = true
			return cs.stmt, func() { cs.busy = false }, nil
		}
		s, err := sc.PrepareContext(ctx, query)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { _ = s.Close() }, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		c.evict()
	}
	s, err := sc.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	cs := &cachedStmt{stmt: s, busy: true}
	c.stmts[query] = cs
	return s, func() { cs.busy = false }, nil
}

// evict closes the statements not in use; those in use stay until the next eviction.
func (c *cachingConn) evict() {
	for q, cs := range c.stmts {
		if !cs.busy {
			_ = cs.stmt.Close()
			delete(c.stmts, q)
		}
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ctx = c.statementContext(ctx)
	s, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	exec, ok := s.(driver.StmtExecContext)
	if !ok {
		return nil, errNotSQLite
	}
	return exec.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ctx = c.statementContext(ctx)
	s, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	q, ok := s.(driver.StmtQueryContext)
	if !ok {
		release()
		return nil, errNotSQLite
	}
	rows, err := q.QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{Rows: rows, release: release}, nil
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	sc, err := c.inner()
	if err != nil {
		return nil, err
	}
	s, err := sc.PrepareContext(ctx, query)
	if err != nil || !c.detached {
		return s, err
	}
	return detachedStmt{s}, nil
}

// detachedStmt is a statement a caller prepared on a detached connection.
type detachedStmt struct{ driver.Stmt }

func (s detachedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	exec, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errNotSQLite
	}
	return exec.ExecContext(context.WithoutCancel(ctx), args)
}

func (s detachedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errNotSQLite
	}
	return q.QueryContext(context.WithoutCancel(ctx), args)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	sc, err := c.inner()
	if err != nil {
		return nil, err
	}
	return sc.BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error {
	sc, err := c.inner()
	if err != nil {
		return err
	}
	return sc.Ping(ctx)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	sc, err := c.inner()
	if err != nil {
		return err
	}
	return sc.ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool {
	sc, err := c.inner()
	return err == nil && sc.IsValid()
}

// Close finalizes the kept statements before the connection, which SQLite requires.
func (c *cachingConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.conn.Close())...)
}

// releasingRows gives its statement back when closed.
type releasingRows struct {
	driver.Rows
	release func()
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}
