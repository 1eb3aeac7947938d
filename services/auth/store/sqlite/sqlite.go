// Package sqlite is the auth store on an embedded SQLite database (modernc.org/sqlite).
//
// Writes go through db.SQLite's single writer connection, one immediate transaction at a
// time, so a write never races another: it reads what it needs inside its transaction
// and acts on it. Reads use the reader pool and never wait for the writer (WAL).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/auth/migrations"
	"github.com/spackmon/spackmon/services/auth/store"
	"github.com/spackmon/spackmon/services/auth/store/internal/check"
)

// Store implements store.Store.
type Store struct {
	db *db.SQLite
}

var _ store.Store = (*Store)(nil)

// New returns a store on sq, which must hold the auth migrations. Close closes sq.
func New(sq *db.SQLite) *Store { return &Store{db: sq} }

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	return s.db.Ping(ctx)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

const userColumns = "id, name, admin, disabled, created_at"

const tokenColumns = "id, user_id, prefix, hash, created_at, expires_at, last_used_at, revoked_at"

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a transaction on the writer connection, perhaps shared with other
// writes (db.SQLite.WriteTx).
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return wrap(op, s.db.WriteTx(ctx, fn))
}

// CreateUser adds a user.
func (s *Store) CreateUser(ctx context.Context, nu store.NewUser) (store.User, error) {
	var u store.User
	err := s.write(ctx, "create user", func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			"INSERT INTO auth_users (name, admin, created_at) VALUES (?1, ?2, ?3) "+
				"ON CONFLICT (name) DO NOTHING RETURNING "+userColumns,
			nu.Name, nu.Admin, now()))
		if errors.Is(err, sql.ErrNoRows) {
			return check.UserExists(nu.Name)
		}
		return err
	})
	return u, err
}

// GetUser returns the user with the given name.
func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := getUser(ctx, s.db.Read, name)
	return u, wrap("get user", err)
}

func getUser(ctx context.Context, q querier, name string) (store.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM auth_users WHERE name = ?1", name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, check.UserNotFound(name)
	}
	return u, err
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rs, err := s.db.Read.QueryContext(ctx, "SELECT "+userColumns+" FROM auth_users ORDER BY name")
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rs.Close()
	users := []store.User{}
	for rs.Next() {
		u, err := scanUser(rs)
		if err != nil {
			return nil, wrap("list users", err)
		}
		users = append(users, u)
	}
	return users, wrap("list users", rs.Err())
}

// SetDisabled disables or re-enables a user.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) (store.User, error) {
	var u store.User
	err := s.write(ctx, "set disabled", func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			"UPDATE auth_users SET disabled = ?2 WHERE name = ?1 RETURNING "+userColumns, name, disabled))
		if errors.Is(err, sql.ErrNoRows) {
			return check.UserNotFound(name)
		}
		return err
	})
	return u, err
}

// DeleteUser removes a user; its tokens go with it (ON DELETE CASCADE).
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.write(ctx, "delete user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM auth_users WHERE name = ?1", name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, check.UserNotFound(name))
		}
		return nil
	})
}

// AddToken stores a new token of the user.
func (s *Store) AddToken(ctx context.Context, user string, nt store.NewToken) (store.Token, error) {
	if err := check.NewToken(nt); err != nil {
		return store.Token{}, err
	}
	var t store.Token
	err := s.write(ctx, "add token", func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, user)
		if err != nil {
			return err
		}
		if nt.Session {
			// The user's expired sessions go as a new one starts: nothing accepts their
			// tokens any more, and they would pile up.
			if _, err := tx.ExecContext(ctx, "DELETE FROM auth_tokens WHERE user_id = ?1 AND session AND expires_at <= ?2", u.ID, now()); err != nil {
				return err
			}
		}
		t, err = insertToken(ctx, tx, u.ID, nt)
		return err
	})
	return t, err
}

// ListTokens returns the user's tokens, oldest first. It reads in one transaction, so
// that the user and its tokens are seen at one moment.
func (s *Store) ListTokens(ctx context.Context, user string) ([]store.Token, error) {
	tx, err := s.db.Read.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer func() { _ = tx.Rollback() }()
	u, err := getUser(ctx, tx, user)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	rs, err := tx.QueryContext(ctx, "SELECT "+tokenColumns+" FROM auth_tokens WHERE user_id = ?1 AND NOT session ORDER BY id", u.ID)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer rs.Close()
	tokens := []store.Token{}
	for rs.Next() {
		t, err := scanToken(rs)
		if err != nil {
			return nil, wrap("list tokens", err)
		}
		tokens = append(tokens, t)
	}
	return tokens, wrap("list tokens", rs.Err())
}

// FindToken returns the token with the given prefix and its user.
func (s *Store) FindToken(ctx context.Context, prefix string) (store.Token, store.User, error) {
	var t store.Token
	var u store.User
	var tCreated, uCreated string
	var expires, used, revoked sql.NullString
	err := s.db.Read.QueryRowContext(ctx,
		"SELECT t.id, t.user_id, t.prefix, t.hash, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, "+
			"u.id, u.name, u.admin, u.disabled, u.created_at "+
			"FROM auth_tokens t JOIN auth_users u ON u.id = t.user_id WHERE t.prefix = ?1", prefix).
		Scan(&t.ID, &t.UserID, &t.Prefix, &t.Hash, &tCreated, &expires, &used, &revoked,
			&u.ID, &u.Name, &u.Admin, &u.Disabled, &uCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.User{}, check.NoSuchPrefix()
	}
	if err == nil {
		err = errors.Join(
			parseTime(tCreated, &t.CreatedAt), parseTime(uCreated, &u.CreatedAt),
			parseNull(expires, &t.ExpiresAt), parseNull(used, &t.LastUsedAt), parseNull(revoked, &t.RevokedAt))
	}
	if err != nil {
		return store.Token{}, store.User{}, wrap("find token", err)
	}
	return t, u, nil
}

// TouchToken records that the token was used now. Times are fixed-width text, so max
// compares them as times; max with a NULL argument would be NULL, hence coalesce.
func (s *Store) TouchToken(ctx context.Context, id int64) error {
	return s.write(ctx, "touch token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE auth_tokens SET last_used_at = max(coalesce(last_used_at, ?2), ?2) WHERE id = ?1", id, now())
		return affected(res, err, id)
	})
}

// RevokeToken revokes a token, keeping the first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.write(ctx, "revoke token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE auth_tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1", id, now())
		return affected(res, err, id)
	})
}

func affected(res sql.Result, err error, id int64) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, check.TokenNotFound(id))
	}
	return nil
}

// RevokeUserTokens revokes every active token of the user.
func (s *Store) RevokeUserTokens(ctx context.Context, user string) (int, error) {
	var n int
	err := s.write(ctx, "revoke tokens", func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, user)
		if err != nil {
			return err
		}
		n, err = revokeAll(ctx, tx, u.ID)
		return err
	})
	return n, err
}

// RotateToken revokes every token of the user and adds nt, in one transaction.
func (s *Store) RotateToken(ctx context.Context, user string, nt store.NewToken) (store.Token, error) {
	if err := check.NewToken(nt); err != nil {
		return store.Token{}, err
	}
	var t store.Token
	err := s.write(ctx, "rotate token", func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, user)
		if err != nil {
			return err
		}
		if _, err := revokeAll(ctx, tx, u.ID); err != nil {
			return err
		}
		t, err = insertToken(ctx, tx, u.ID, nt)
		return err
	})
	return t, err
}

func insertToken(ctx context.Context, tx *sql.Tx, userID int64, nt store.NewToken) (store.Token, error) {
	var expires any
	if !nt.ExpiresAt.IsZero() {
		expires = nt.ExpiresAt.UTC().Format(timeLayout)
	}
	t, err := scanToken(tx.QueryRowContext(ctx,
		"INSERT INTO auth_tokens (user_id, prefix, hash, created_at, expires_at, session) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "+
			"ON CONFLICT (prefix) DO NOTHING RETURNING "+tokenColumns,
		userID, nt.Prefix, nt.Hash, now(), expires, nt.Session))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, check.PrefixTaken()
	}
	return t, err
}

func revokeAll(ctx context.Context, tx *sql.Tx, userID int64) (int, error) {
	res, err := tx.ExecContext(ctx, "UPDATE auth_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL AND NOT session", userID, now())
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ListRevocations returns the revocations made at or after since, in the order made.
func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	rs, err := s.db.Read.QueryContext(ctx,
		"SELECT user_id, coalesce(api_token_id, 0), revoked_at FROM auth_revocations WHERE revoked_at >= ?1 ORDER BY id",
		since.UTC().Format(timeLayout))
	if err != nil {
		return nil, wrap("list revocations", err)
	}
	defer rs.Close()
	out := []store.Revocation{}
	for rs.Next() {
		var r store.Revocation
		var at string
		if err := rs.Scan(&r.UserID, &r.APITokenID, &at); err != nil {
			return nil, wrap("list revocations", err)
		}
		if err := parseTime(at, &r.At); err != nil {
			return nil, wrap("list revocations", err)
		}
		out = append(out, r)
	}
	return out, wrap("list revocations", rs.Err())
}

// PruneRevocations forgets the revocations made before before.
func (s *Store) PruneRevocations(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "prune revocations", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM auth_revocations WHERE revoked_at < ?1", before.UTC().Format(timeLayout))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// LoginIdentity returns the identity's user, linking the identity first when it is new.
func (s *Store) LoginIdentity(ctx context.Context, id store.NewIdentity, names []string) (store.User, bool, error) {
	var u store.User
	var created bool
	err := s.write(ctx, "login identity", func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT u."+userColumnsOf("u")+
			" FROM auth_identities i JOIN auth_users u ON u.id = i.user_id WHERE i.provider = ?1 AND i.subject = ?2",
			id.Provider, id.Subject))
		if err == nil {
			_, err = tx.ExecContext(ctx, "UPDATE auth_identities SET email = ?3, email_verified = ?4 WHERE provider = ?1 AND subject = ?2",
				id.Provider, id.Subject, id.Email, id.EmailVerified)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if u, err = verifiedEmailUser(ctx, tx, id); err != nil {
			return err
		}
		if u.ID == 0 {
			if u, err = createFirstFree(ctx, tx, names); err != nil {
				return err
			}
			created = true
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO auth_identities (user_id, provider, subject, email, email_verified, created_at) "+
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", u.ID, id.Provider, id.Subject, id.Email, id.EmailVerified, now())
		return err
	})
	return u, created, err
}

// verifiedEmailUser is the user of another identity with the identity's verified address;
// the zero user when there is none or the address is not verified.
func verifiedEmailUser(ctx context.Context, tx *sql.Tx, id store.NewIdentity) (store.User, error) {
	if !id.EmailVerified || id.Email == "" {
		return store.User{}, nil
	}
	u, err := scanUser(tx.QueryRowContext(ctx, "SELECT u."+userColumnsOf("u")+
		" FROM auth_identities i JOIN auth_users u ON u.id = i.user_id WHERE i.email = ?1 AND i.email_verified = 1 ORDER BY i.id LIMIT 1",
		id.Email))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, nil
	}
	return u, err
}

func createFirstFree(ctx context.Context, tx *sql.Tx, names []string) (store.User, error) {
	for _, name := range names {
		u, err := scanUser(tx.QueryRowContext(ctx,
			"INSERT INTO auth_users (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING RETURNING "+userColumns,
			name, now()))
		if !errors.Is(err, sql.ErrNoRows) {
			return u, err
		}
	}
	return store.User{}, check.NoFreeName()
}

// ListIdentities returns the identities linked to the user, oldest first.
func (s *Store) ListIdentities(ctx context.Context, userID int64) ([]store.Identity, error) {
	rs, err := s.db.Read.QueryContext(ctx, "SELECT user_id, provider, subject, email, email_verified, created_at "+
		"FROM auth_identities WHERE user_id = ?1 ORDER BY id", userID)
	if err != nil {
		return nil, wrap("list identities", err)
	}
	defer rs.Close()
	out := []store.Identity{}
	for rs.Next() {
		var i store.Identity
		var created string
		if err := rs.Scan(&i.UserID, &i.Provider, &i.Subject, &i.Email, &i.EmailVerified, &created); err != nil {
			return nil, wrap("list identities", err)
		}
		if err := parseTime(created, &i.CreatedAt); err != nil {
			return nil, wrap("list identities", err)
		}
		out = append(out, i)
	}
	return out, wrap("list identities", rs.Err())
}

// userColumnsOf is userColumns qualified by a table alias, without the first alias.
func userColumnsOf(alias string) string {
	return strings.ReplaceAll(userColumns, ", ", ", "+alias+".")
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner) (store.User, error) {
	var u store.User
	var created string
	if err := r.Scan(&u.ID, &u.Name, &u.Admin, &u.Disabled, &created); err != nil {
		return store.User{}, err
	}
	return u, parseTime(created, &u.CreatedAt)
}

func scanToken(r scanner) (store.Token, error) {
	var t store.Token
	var created string
	var expires, used, revoked sql.NullString
	if err := r.Scan(&t.ID, &t.UserID, &t.Prefix, &t.Hash, &created, &expires, &used, &revoked); err != nil {
		return store.Token{}, err
	}
	return t, errors.Join(parseTime(created, &t.CreatedAt),
		parseNull(expires, &t.ExpiresAt), parseNull(used, &t.LastUsedAt), parseNull(revoked, &t.RevokedAt))
}

// timeLayout is how times are stored: UTC, fixed width, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func now() string { return time.Now().UTC().Format(timeLayout) }

func parseTime(s string, into *time.Time) error {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return fmt.Errorf("stored time %q: %w", s, err)
	}
	*into = t
	return nil
}

func parseNull(s sql.NullString, into *time.Time) error {
	if !s.Valid {
		*into = time.Time{}
		return nil
	}
	return parseTime(s.String, into)
}

// wrap names what failed and sorts what SQLite answers (db.SQLiteError); a refused check
// is named by the columns of the auth schema that have it.
func wrap(op string, err error) error {
	return db.Annotate(op, db.SQLiteError(err, schema))
}

var schema = db.NewSQLiteSchema(migrations.SQLite)
