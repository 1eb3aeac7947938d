package service

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spackmon/spackmon/pkg/signing"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
)

// pruneEvery is the least time between two prunings of the revocations: the verifiers of
// every service ask every few seconds, and there is rarely anything to prune.
const pruneEvery = time.Minute

// GetRevocations returns the revocations that may still revoke a valid token: those made
// within the longest token lifetime (realm or web session) plus the verifiers' leeway. Older ones are pruned.
func (s *Server) GetRevocations(ctx context.Context, _ *authv1.GetRevocationsRequest) (*authv1.Revocations, error) {
	now := s.now()
	since := now.Add(-max(s.keys.TTL(), s.cfg.WebSessionTTL) - signing.Leeway)
	if last := s.pruned.Load(); now.UnixNano()-last >= int64(pruneEvery) && s.pruned.CompareAndSwap(last, now.UnixNano()) {
		if _, err := s.users.st.PruneRevocations(ctx, since); err != nil {
			s.log.WarnContext(ctx, "pruning revocations failed", "error", err)
		}
	}
	rs, err := s.users.st.ListRevocations(ctx, since)
	if err != nil {
		return nil, err
	}
	out := &authv1.Revocations{Revocations: make([]*authv1.Revocation, len(rs))}
	for i, r := range rs {
		out.Revocations[i] = &authv1.Revocation{UserId: r.UserID, ApiTokenId: r.APITokenID, RevokedAt: timestamppb.New(r.At)}
	}
	return out, nil
}
