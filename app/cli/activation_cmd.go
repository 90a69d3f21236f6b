package cli

// runActivation is filled in by the issue that builds "tapline activation".
func runActivation(env *Env, args []string) int {
	env.Errorf("activation: not built yet")
	return ExitUsage
}
