package cli

// SettingKeys lists every configuration key with its flag and variable.
func SettingKeys() (keys, flags, envs []string) {
	for _, s := range settings() {
		keys = append(keys, s.key)
		flags = append(flags, "--"+s.flagName())
		envs = append(envs, s.envName())
	}
	return keys, flags, envs
}
