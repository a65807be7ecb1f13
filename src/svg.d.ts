/**
 * SVG files are imported as their source text (JupyterLab's webpack config
 * and jest's raw loader both do this), for `LabIcon`.
 */
declare module '*.svg' {
  const value: string;
  export default value;
}
