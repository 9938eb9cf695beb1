/**
 * The codec the gateway uses. src/codec is being written in parallel; until it lands this points
 * at the stand-in with the same contract (codec-fallback.ts). Switching is this one line.
 */
export * from './codec-fallback.js';
