package cli

// runCA is filled in by the issue that builds "tapline ca".
func runCA(env *Env, args []string) int {
	env.Errorf("ca: not built yet")
	return ExitUsage
}
