/**
 * Small checks for reading JSON from outside, shared by the parsers of API
 * bodies: is it an object, what type was it, can a string go into a URL.
 */
import type { Unchecked } from './ampersand-payloads.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `value` read as an object of the spec's schema T when it is a JSON object (its fields still unchecked), else undefined. */
export const unchecked = <T>(value: unknown): Unchecked<T> | undefined => (isObject(value) ? value : undefined);

/** The JSON type of a value, for a warning or an error ("null", "array", "number"…). */
export const describeType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

// With the u flag a surrogate pair is one code point, so this matches only a lone surrogate.
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * False for a string with a lone surrogate (not well-formed UTF-16), which
 * `encodeURIComponent` refuses with a URIError: such an id cannot go into a
 * URL, a job id or a notification id. (`String.prototype.isWellFormed` is not
 * in the ES2023 lib this project compiles against.)
 */
export const isWellFormedText = (value: string): boolean => !LONE_SURROGATE.test(value);
