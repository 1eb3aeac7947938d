package service

import (
	"github.com/spackmon/spackmon/pkg/authn"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// Methods is what each method asks of its caller, for authn.Guard: the protocol's writes
// need the build scope; reads are public unless the deployment makes them private.
var Methods = map[string]authn.Requirement{
	ingestv1.IngestService_NewSpec_FullMethodName:             authn.Build,
	ingestv1.IngestService_NewBuild_FullMethodName:            authn.Build,
	ingestv1.IngestService_UpdateBuildStatus_FullMethodName:   authn.Build,
	ingestv1.IngestService_UpdatePhase_FullMethodName:         authn.Build,
	ingestv1.PhaseStreamService_StreamPhase_FullMethodName:    authn.Build,
	ingestv1.IngestService_ListBuilds_FullMethodName:          authn.Read,
	ingestv1.IngestService_GetBuild_FullMethodName:            authn.Read,
	ingestv1.IngestService_GetPhaseOutput_FullMethodName:      authn.Read,
	ingestv1.PhaseStreamService_GetPhaseOutput_FullMethodName: authn.Read,
	ingestv1.IngestService_ListBuildEvents_FullMethodName:     authn.Read,
	ingestv1.IngestService_ListSpecs_FullMethodName:           authn.Read,
	ingestv1.IngestService_GetSpec_FullMethodName:             authn.Read,
	ingestv1.IngestService_ListSpecsByName_FullMethodName:     authn.Read,
	ingestv1.IngestService_CountBuildsByDay_FullMethodName:    authn.Read,
	ingestv1.IngestService_ListSpecBuilds_FullMethodName:      authn.Read,
	ingestv1.IngestService_GetBuildMatrix_FullMethodName:      authn.Read,
	ingestv1.IngestService_GrepPhaseOutput_FullMethodName:     authn.Read,
	ingestv1.IngestService_DiffSpecs_FullMethodName:           authn.Read,
	ingestv1.IngestService_TombstoneOwnBuilds_FullMethodName:  authn.Session,
	// CDash clients send a token only when their user gave one: the method itself lets the
	// open projects take parts without one.
	ingestv1.IngestService_SubmitCDashPart_FullMethodName:      authn.Submit,
	ingestv1.IngestService_OpenCDashBuild_FullMethodName:       authn.Submit,
	ingestv1.IngestService_AttachCDashFile_FullMethodName:      authn.Submit,
	ingestv1.IngestService_ListBuildTests_FullMethodName:       authn.Read,
	ingestv1.IngestService_ListBuildAttachments_FullMethodName: authn.Read,
	ingestv1.IngestService_GetBuildAttachment_FullMethodName:   authn.Read,
	ingestv1.IngestService_SubmitJUnit_FullMethodName:          authn.Build,
	ingestv1.BuildWatchService_WatchBuild_FullMethodName:       authn.Read,
	ingestv1.CompareService_CompareBuilds_FullMethodName:       authn.Read,
}
