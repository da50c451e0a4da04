// The test central system: the embedded central system's answers, made configurable (docs/charger-tests.md).
export { TestCentralSystem, type IdTagInfo } from './central-system.js';
export { createAnswerers, type Answer } from './answers.js';
export { parseTestCsConfig } from './config.js';
export {
  applySettings, defaultSettings, settingsToJson, TestCsSettingsError,
  BOOT_STATUSES, TAG_STATUSES, type TagEntry, type TestCsSettings, type TestCsSettingsJson,
} from './settings.js';
