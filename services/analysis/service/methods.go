package service

import (
	"github.com/spackmon/spackmon/pkg/authn"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
)

// Methods is what each method asks of its caller, for authn.Guard: recording results is a
// protocol write and needs the build scope (upstream left it open); reads are public unless
// the deployment makes them private.
var Methods = map[string]authn.Requirement{
	analysisv1.AnalysisService_RecordAnalysis_FullMethodName:    authn.Build,
	analysisv1.AnalysisService_ListInstallFiles_FullMethodName:  authn.Read,
	analysisv1.AnalysisService_GetEnvironment_FullMethodName:    authn.Read,
	analysisv1.AnalysisService_GetConfigArgs_FullMethodName:     authn.Read,
	analysisv1.AnalysisService_ListAttributes_FullMethodName:    authn.Read,
	analysisv1.AnalysisService_GetAttributeValue_FullMethodName: authn.Read,
	analysisv1.AnalysisService_DiffAnalysis_FullMethodName:      authn.Read,
	analysisv1.AnalysisService_CompareAnalyses_FullMethodName:   authn.Read,
	analysisv1.SpliceService_PredictSplice_FullMethodName:       authn.Read,
}
