/**
 * The whole configuration of the service: the environment (config.ts, pure)
 * and, when MONITOR_CONFIG names one, the monitor configuration file
 * (monitor-config-file.ts). Both kinds of problem come back as one
 * ConfigError, so the entry point prints them all and exits 2 on either.
 *
 * The file's `projects`, when it has them, replace AMPERSAND_PROJECT_ID,
 * AMPERSAND_INTEGRATION_IDS and AMPERSAND_GROUP_REF: those are then ignored,
 * with a warning, so that an operator who moved to the file and left the
 * variables behind learns that they no longer count (refusing to start would
 * punish a harmless leftover). With neither, there is no project to watch.
 */
import { ConfigError, readConfig, type Config, type Env } from './config.js';
import { loadMonitorConfigFile } from './monitor-config-file.js';

const replacedVariables = ['AMPERSAND_PROJECT_ID', 'AMPERSAND_INTEGRATION_IDS', 'AMPERSAND_GROUP_REF'] as const;

export async function loadConfig(env: Env): Promise<{ config: Config; warnings: string[] } | ConfigError> {
  const parsed = readConfig(env);
  if (parsed instanceof ConfigError) return parsed;
  const { config, warnings } = parsed;
  const path = config.monitorConfigPath;
  if (path === undefined) return parsed;
  const file = await loadMonitorConfigFile(path, { env, allowAnyWebhookHost: config.allowAnyWebhookHost });
  // Each problem already starts with the file's path; MONITOR_CONFIG says which variable named it.
  if (!file.ok) return new ConfigError(file.problems.map((problem) => `MONITOR_CONFIG: ${problem}`));
  const { projects } = file.config;
  if (projects === undefined) {
    if (config.projects.length === 0) {
      return new ConfigError([
        'AMPERSAND_PROJECT_ID is required when the MONITOR_CONFIG file has no `projects`: set AMPERSAND_PROJECT_ID, or list the projects under `projects:` in the file',
      ]);
    }
    return { config: { ...config, monitor: file.config }, warnings };
  }
  const ignored = replacedVariables.filter((name) => (env[name]?.trim() ?? '') !== '');
  if (ignored.length > 0) {
    warnings.push(`${ignored.join(', ')} ignored: the MONITOR_CONFIG file lists the projects to watch (\`projects\`), which replace them`);
  }
  return { config: { ...config, projects, monitor: file.config }, warnings };
}
