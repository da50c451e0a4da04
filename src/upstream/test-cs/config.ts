// The `testCentralSystem` section of CONFIG_FILE: the settings the test central system starts with and that
// PUT /api/test-cs starts from. A bad section stops the gateway with a line naming the field.
import { GatewayError } from '../../errors.js';
import { applySettings, defaultSettings, TestCsSettingsError, type TestCsSettings } from './settings.js';

export function parseTestCsConfig(file: Readonly<Record<string, unknown>>, heartbeatIntervalS: number): TestCsSettings {
  const base = defaultSettings(heartbeatIntervalS);
  const section = file.testCentralSystem;
  if (section === undefined) return base;
  try {
    return applySettings(base, section, 'testCentralSystem');
  } catch (err) {
    if (err instanceof TestCsSettingsError) throw new GatewayError('GW_ERR_CONFIG', `CONFIG_FILE: ${err.message}`, { variable: 'CONFIG_FILE' });
    throw err;
  }
}
