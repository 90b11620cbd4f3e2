/**
 * Plotly figure builders over Arquero tables (`hvsim` plots). Each builder returns a plain
 * {@link Figure} (`{ data, layout, config }`) with a title and axis titles with units; display
 * it in a notebook with `show(fig)` from `hvsim/notebook`, or export with `toHTMLFile`.
 *
 * @module
 */
export type {
  Figure,
  PlotlyObject,
  BaseFigureOptions,
  LineFigureOptions,
  CdfFigureOptions,
  HistLogFigureOptions,
  HistCdfFigureOptions,
  HistogramOverlayOptions,
  FacetOptions,
  BarFigureOptions,
  TimelineFigureOptions,
  StackedBarFigureOptions,
} from "./figures.js";
export {
  lineFigure,
  cdfFigure,
  histLogFigure,
  histCdfFigure,
  histogramOverlayFigure,
  barFigure,
  timelineFigure,
  stackedBarFigure,
  cdfSampleIndices,
} from "./figures.js";
export { taskGanttFigure, type TaskGanttFigureOptions } from "./gantt.js";
export { labelFor, splitUnit, unitOf } from "./labels.js";
