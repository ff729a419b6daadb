package sandbox

// The labels, annotations and environment through which a workload (package workload's
// Release) tells the sandbox how its pods behave: kwok's stages (assets/kwok) and the pod
// runner read them.
const (
	// RunLabel marks the pods whose containers the pod runner really runs: the sample Python
	// service, under Debian's gunicorn, on the pod's loopback serving address.
	RunLabel = "sandbox.pyroll.dev/run"
	// RunSampleService is RunLabel's value for the sample service.
	RunSampleService = "sample-service"

	// ImageDigestAnnotation is the digest kwok's pod-ready stage reports as the container's
	// running image ID.
	ImageDigestAnnotation = "sandbox.pyroll.dev/image-digest"
	// CrashLabel makes kwok's crash-loop stage crash the pod's container, with
	// CrashMessageAnnotation as its last termination message and CrashExitCodeAnnotation as
	// its exit code.
	CrashLabel              = "sandbox.pyroll.dev/crash"
	CrashMessageAnnotation  = "sandbox.pyroll.dev/crash-message"
	CrashExitCodeAnnotation = "sandbox.pyroll.dev/crash-exit-code"

	// UnreadyLabel makes kwok's pod-ready stage run the pod without ever making it Ready,
	// as a readiness probe that never passes would.
	UnreadyLabel = "sandbox.pyroll.dev/unready"

	// ImportEnv lists the extra modules the sample service imports at start
	// (Release.MissingModule): one Debian's python3 lacks makes the pod fail for real.
	ImportEnv = "PYROLL_IMPORT"
)
