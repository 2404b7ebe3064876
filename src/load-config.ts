/**
 * The whole configuration of the service: the environment (config.ts, pure)
 * and, when MONITOR_CONFIG names one, the monitor configuration file
 * (monitor-config-file.ts). Both kinds of problem come back as one
 * ConfigError, so the entry point prints them all and exits 2 on either.
 */
import { ConfigError, readConfig, type Config, type Env } from './config.js';
import { loadMonitorConfigFile } from './monitor-config-file.js';

export async function loadConfig(env: Env): Promise<{ config: Config; warnings: string[] } | ConfigError> {
  const parsed = readConfig(env);
  if (parsed instanceof ConfigError) return parsed;
  const { config, warnings } = parsed;
  const path = config.monitorConfigPath;
  if (path === undefined) return parsed;
  const file = await loadMonitorConfigFile(path, { env, allowAnyWebhookHost: config.allowAnyWebhookHost });
  // Each problem already starts with the file's path; MONITOR_CONFIG says which variable named it.
  if (!file.ok) return new ConfigError(file.problems.map((problem) => `MONITOR_CONFIG: ${problem}`));
  return { config: { ...config, monitor: file.config }, warnings };
}
