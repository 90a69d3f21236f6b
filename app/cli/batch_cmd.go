package cli

// runBatch is filled in by the issue that builds "tapline batch".
func runBatch(env *Env, args []string) int {
	env.Errorf("batch: not built yet")
	return ExitUsage
}
