package cli

// runPush is filled in by the issue that builds "tapline push".
func runPush(env *Env, args []string) int {
	env.Errorf("push: not built yet")
	return ExitUsage
}
