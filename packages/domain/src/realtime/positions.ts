/**
 * A stream position: the tick a row was ordered in and its rank in that tick (1-based), packed in
 * one JS number (tick · SPAN + rank). A tick holds fewer than SPAN rows (the ticker splits larger
 * batches), so positions compare like the pairs they encode; at 300 ticks a second the packing
 * lasts for more than ten years.
 */
export const TICK_SPAN = 65_536;
export const MAX_TICK_ITEMS = TICK_SPAN - 1;

export const positionOf = (tick: number, rank: number): number => tick * TICK_SPAN + rank;
export const tickOf = (position: number): number => Math.floor(position / TICK_SPAN);
/** The position after every row of `tick`. */
export const endOfTick = (tick: number): number => tick * TICK_SPAN + MAX_TICK_ITEMS;

/** A tick as the dispatcher needs it: its number and its rows' ids in stream order. */
export interface TickInfo {
  tick: number;
  itemIds: number[];
}
