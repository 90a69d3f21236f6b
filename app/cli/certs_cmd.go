package cli

// runCerts is filled in by the issue that builds "tapline certs".
func runCerts(env *Env, args []string) int {
	env.Errorf("certs: not built yet")
	return ExitUsage
}
