// Types for the page's import of '../../vendor/uPlot.esm.js' (served from the uplot package by src/api/ui-routes.ts):
// tsconfig.ui.json lays this folder over ui/ with rootDirs.
export { default } from 'uplot';
