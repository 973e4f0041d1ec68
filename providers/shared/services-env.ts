/**
 * How an app server is given the platform's email and SMS vendors: one
 * environment variable, base64 of the settings' JSON (operations/services/
 * settings.ts), so it survives an env file and systemd's quoting unchanged.
 * The workload reads it (workload/services.ts, same name).
 */
export const servicesEnvName = "LIFEBOAT_SERVICES";

export function servicesEnv(settingsJson: string | undefined): Record<string, string> {
  return settingsJson ? { [servicesEnvName]: Buffer.from(settingsJson).toString("base64") } : {};
}
