// Package postgres is the auth store on PostgreSQL (pgx pool).
//
// Creating a user or a token is one INSERT ... ON CONFLICT DO NOTHING: when a concurrent
// writer holds the same name, PostgreSQL waits for it and then inserts nothing, which the
// store answers as a name that is taken, without an error from the server. Operations on
// a user's tokens lock the user's row first, so that rotations of one user run one after
// the other and a deletion cannot interleave with them.
package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/auth/store"
	"github.com/spackmon/spackmon/services/auth/store/internal/check"
)

// Store implements store.Store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// New returns a store on pool, which must hold the auth migrations. Close closes pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

const userColumns = "id, name, admin, disabled, created_at"

const tokenColumns = "id, user_id, prefix, hash, created_at, expires_at, last_used_at, revoked_at"

// CreateUser adds a user.
func (s *Store) CreateUser(ctx context.Context, nu store.NewUser) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		"INSERT INTO auth_users (name, admin, created_at) VALUES ($1, $2, $3) "+
			"ON CONFLICT (name) DO NOTHING RETURNING "+userColumns,
		nu.Name, nu.Admin, now()))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, check.UserExists(nu.Name)
	}
	return u, wrap("create user", err)
}

// GetUser returns the user with the given name.
func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM auth_users WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, check.UserNotFound(name)
	}
	return u, wrap("get user", err)
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rs, err := s.pool.Query(ctx, "SELECT "+userColumns+" FROM auth_users ORDER BY name")
	if err != nil {
		return nil, wrap("list users", err)
	}
	users, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
	return users, wrap("list users", err)
}

// SetDisabled disables or re-enables a user.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		"UPDATE auth_users SET disabled = $2 WHERE name = $1 RETURNING "+userColumns, name, disabled))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, check.UserNotFound(name)
	}
	return u, wrap("set disabled", err)
}

// DeleteUser removes a user; its tokens go with it (ON DELETE CASCADE).
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM auth_users WHERE name = $1", name)
	if err != nil {
		return wrap("delete user", err)
	}
	if tag.RowsAffected() == 0 {
		return check.UserNotFound(name)
	}
	return nil
}

// AddToken stores a new token of the user.
func (s *Store) AddToken(ctx context.Context, user string, nt store.NewToken) (store.Token, error) {
	if err := check.NewToken(nt); err != nil {
		return store.Token{}, err
	}
	var t store.Token
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := lockUser(ctx, tx, user)
		if err != nil {
			return err
		}
		if nt.Session {
			// The user's expired sessions go as a new one starts: nothing accepts their
			// tokens any more, and they would pile up.
			if _, err := tx.Exec(ctx, "DELETE FROM auth_tokens WHERE user_id = $1 AND session AND expires_at <= $2", id, now()); err != nil {
				return err
			}
		}
		t, err = insertToken(ctx, tx, id, nt)
		return err
	})
	return t, wrap("add token", err)
}

// ListTokens returns the user's tokens, oldest first.
func (s *Store) ListTokens(ctx context.Context, user string) ([]store.Token, error) {
	// One statement: the user's row (to tell an unknown user from one without tokens)
	// joined to its tokens.
	rs, err := s.pool.Query(ctx,
		"SELECT u.id, t.id, t.user_id, t.prefix, t.hash, t.created_at, t.expires_at, t.last_used_at, t.revoked_at "+
			"FROM auth_users u LEFT JOIN auth_tokens t ON t.user_id = u.id AND NOT t.session WHERE u.name = $1 ORDER BY t.id", user)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	found := false
	tokens := []store.Token{}
	for rs.Next() {
		found = true
		var userID int64
		var id, uid *int64
		var prefix *string
		var t store.Token
		var created, expires, used, revoked *time.Time
		if err := rs.Scan(&userID, &id, &uid, &prefix, &t.Hash, &created, &expires, &used, &revoked); err != nil {
			rs.Close()
			return nil, wrap("list tokens", err)
		}
		if id == nil {
			continue // the user has no tokens
		}
		t.ID, t.UserID, t.Prefix = *id, *uid, *prefix
		t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = when(created), when(expires), when(used), when(revoked)
		tokens = append(tokens, t)
	}
	if err := rs.Err(); err != nil {
		return nil, wrap("list tokens", err)
	}
	if !found {
		return nil, check.UserNotFound(user)
	}
	return tokens, nil
}

// FindToken returns the token with the given prefix and its user.
func (s *Store) FindToken(ctx context.Context, prefix string) (store.Token, store.User, error) {
	var t store.Token
	var u store.User
	var expires, used, revoked *time.Time
	err := s.pool.QueryRow(ctx,
		"SELECT t.id, t.user_id, t.prefix, t.hash, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, "+
			"u.id, u.name, u.admin, u.disabled, u.created_at "+
			"FROM auth_tokens t JOIN auth_users u ON u.id = t.user_id WHERE t.prefix = $1", prefix).
		Scan(&t.ID, &t.UserID, &t.Prefix, &t.Hash, &t.CreatedAt, &expires, &used, &revoked,
			&u.ID, &u.Name, &u.Admin, &u.Disabled, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, store.User{}, check.NoSuchPrefix()
	}
	if err != nil {
		return store.Token{}, store.User{}, wrap("find token", err)
	}
	t.CreatedAt, u.CreatedAt = t.CreatedAt.UTC(), u.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = when(expires), when(used), when(revoked)
	return t, u, nil
}

// TouchToken records that the token was used now.
func (s *Store) TouchToken(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx,
		"UPDATE auth_tokens SET last_used_at = greatest(last_used_at, $2) WHERE id = $1", id, now())
	if err != nil {
		return wrap("touch token", err)
	}
	if tag.RowsAffected() == 0 {
		return check.TokenNotFound(id)
	}
	return nil
}

// RevokeToken revokes a token, keeping the first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx,
		"UPDATE auth_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1", id, now())
	if err != nil {
		return wrap("revoke token", err)
	}
	if tag.RowsAffected() == 0 {
		return check.TokenNotFound(id)
	}
	return nil
}

// RevokeUserTokens revokes every active token of the user.
func (s *Store) RevokeUserTokens(ctx context.Context, user string) (int, error) {
	var n int
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := lockUser(ctx, tx, user)
		if err != nil {
			return err
		}
		n, err = revokeAll(ctx, tx, id)
		return err
	})
	return n, wrap("revoke tokens", err)
}

// RotateToken revokes every token of the user and adds nt, in one transaction.
func (s *Store) RotateToken(ctx context.Context, user string, nt store.NewToken) (store.Token, error) {
	if err := check.NewToken(nt); err != nil {
		return store.Token{}, err
	}
	var t store.Token
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := lockUser(ctx, tx, user)
		if err != nil {
			return err
		}
		if _, err := revokeAll(ctx, tx, id); err != nil {
			return err
		}
		t, err = insertToken(ctx, tx, id, nt)
		return err
	})
	return t, wrap("rotate token", err)
}

// lockUser returns the id of the named user and locks its row until the end of tx:
// writers of the user's tokens run one at a time, and the user cannot be deleted
// meanwhile.
func lockUser(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM auth_users WHERE name = $1 FOR NO KEY UPDATE", name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, check.UserNotFound(name)
	}
	return id, err
}

func insertToken(ctx context.Context, tx pgx.Tx, userID int64, nt store.NewToken) (store.Token, error) {
	var expires *time.Time
	if !nt.ExpiresAt.IsZero() {
		e := nt.ExpiresAt.UTC().Truncate(time.Microsecond)
		expires = &e
	}
	t, err := scanToken(tx.QueryRow(ctx,
		"INSERT INTO auth_tokens (user_id, prefix, hash, created_at, expires_at, session) VALUES ($1, $2, $3, $4, $5, $6) "+
			"ON CONFLICT (prefix) DO NOTHING RETURNING "+tokenColumns,
		userID, nt.Prefix, nt.Hash, now(), expires, nt.Session))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, check.PrefixTaken()
	}
	return t, err
}

func revokeAll(ctx context.Context, tx pgx.Tx, userID int64) (int, error) {
	tag, err := tx.Exec(ctx, "UPDATE auth_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND NOT session", userID, now())
	return int(tag.RowsAffected()), err
}

// ListRevocations returns the revocations made at or after since, in the order made.
func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	rs, err := s.pool.Query(ctx,
		"SELECT user_id, coalesce(api_token_id, 0), revoked_at FROM auth_revocations WHERE revoked_at >= $1 ORDER BY id", since)
	if err != nil {
		return nil, wrap("list revocations", err)
	}
	out, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (store.Revocation, error) {
		var v store.Revocation
		err := r.Scan(&v.UserID, &v.APITokenID, &v.At)
		v.At = v.At.UTC()
		return v, err
	})
	return out, wrap("list revocations", err)
}

// PruneRevocations forgets the revocations made before before.
func (s *Store) PruneRevocations(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM auth_revocations WHERE revoked_at < $1", before)
	if err != nil {
		return 0, wrap("prune revocations", err)
	}
	return int(tag.RowsAffected()), nil
}

// LoginIdentity returns the identity's user, linking the identity first when it is new. Two
// first logins of one identity at once take turns on a transaction lock of its key, so that
// the second finds what the first linked.
func (s *Store) LoginIdentity(ctx context.Context, id store.NewIdentity, names []string) (store.User, bool, error) {
	var u store.User
	var created bool
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(10) || $2, 0))", id.Provider, id.Subject); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, "SELECT u."+userColumnsOf("u")+
			" FROM auth_identities i JOIN auth_users u ON u.id = i.user_id WHERE i.provider = $1 AND i.subject = $2",
			id.Provider, id.Subject))
		if err == nil {
			_, err = tx.Exec(ctx, "UPDATE auth_identities SET email = $3, email_verified = $4 WHERE provider = $1 AND subject = $2",
				id.Provider, id.Subject, id.Email, id.EmailVerified)
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
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
		_, err = tx.Exec(ctx, "INSERT INTO auth_identities (user_id, provider, subject, email, email_verified, created_at) "+
			"VALUES ($1, $2, $3, $4, $5, $6)", u.ID, id.Provider, id.Subject, id.Email, id.EmailVerified, now())
		return err
	})
	return u, created, wrap("login identity", err)
}

// verifiedEmailUser is the user of another identity with the identity's verified address;
// the zero user when there is none or the address is not verified.
func verifiedEmailUser(ctx context.Context, tx pgx.Tx, id store.NewIdentity) (store.User, error) {
	if !id.EmailVerified || id.Email == "" {
		return store.User{}, nil
	}
	u, err := scanUser(tx.QueryRow(ctx, "SELECT u."+userColumnsOf("u")+
		" FROM auth_identities i JOIN auth_users u ON u.id = i.user_id WHERE i.email = $1 AND i.email_verified ORDER BY i.id LIMIT 1",
		id.Email))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, nil
	}
	return u, err
}

func createFirstFree(ctx context.Context, tx pgx.Tx, names []string) (store.User, error) {
	for _, name := range names {
		u, err := scanUser(tx.QueryRow(ctx,
			"INSERT INTO auth_users (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING "+userColumns,
			name, now()))
		if !errors.Is(err, pgx.ErrNoRows) {
			return u, err
		}
	}
	return store.User{}, check.NoFreeName()
}

// ListIdentities returns the identities linked to the user, oldest first.
func (s *Store) ListIdentities(ctx context.Context, userID int64) ([]store.Identity, error) {
	rs, err := s.pool.Query(ctx, "SELECT user_id, provider, subject, email, email_verified, created_at "+
		"FROM auth_identities WHERE user_id = $1 ORDER BY id", userID)
	if err != nil {
		return nil, wrap("list identities", err)
	}
	out, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (store.Identity, error) {
		var i store.Identity
		err := r.Scan(&i.UserID, &i.Provider, &i.Subject, &i.Email, &i.EmailVerified, &i.CreatedAt)
		i.CreatedAt = i.CreatedAt.UTC()
		return i, err
	})
	return out, wrap("list identities", err)
}

// userColumnsOf is userColumns qualified by a table alias, without the first alias.
func userColumnsOf(alias string) string {
	return strings.ReplaceAll(userColumns, ", ", ", "+alias+".")
}

func scanUser(r pgx.Row) (store.User, error) {
	var u store.User
	err := r.Scan(&u.ID, &u.Name, &u.Admin, &u.Disabled, &u.CreatedAt)
	u.CreatedAt = u.CreatedAt.UTC()
	return u, err
}

func scanToken(r pgx.Row) (store.Token, error) {
	var t store.Token
	var expires, used, revoked *time.Time
	err := r.Scan(&t.ID, &t.UserID, &t.Prefix, &t.Hash, &t.CreatedAt, &expires, &used, &revoked)
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = when(expires), when(used), when(revoked)
	return t, err
}

// when is a nullable time as the store answers it: zero for NULL, else UTC.
func when(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// now is the time written by a change: UTC, at the precision PostgreSQL keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// wrap names what failed and sorts what PostgreSQL and pgx answer (db.PostgresError).
func wrap(op string, err error) error {
	return db.Annotate(op, db.PostgresError(err))
}
