/**
 * Validates payloads against the official Ampersand OpenAPI schemas (the
 * vendored copy in spec/). Used to prove that fixtures and the fake API serve
 * only what the spec allows.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const SPEC_PATH = fileURLToPath(new URL('../../spec/ampersand-api.bundled.json', import.meta.url));

export interface OpenApiSpec {
  components: { schemas: Record<string, Record<string, unknown>> };
  paths: Record<string, Record<string, unknown>>;
}

export const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiSpec;

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * OpenAPI 3.0 writes exclusive bounds draft-4 style (`maximum: 600, exclusiveMaximum: true`);
 * ajv speaks draft 7 (`exclusiveMaximum: 600`). Rewrites a copy, leaving everything else as is.
 */
function toDraft7(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toDraft7);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = toDraft7(value);
  for (const [flag, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag] === true) out[flag] = out[bound];
      else delete out[flag];
      if (out[flag] !== undefined) delete out[bound];
    }
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
addFormats(ajv);
ajv.addSchema(toDraft7(spec) as Record<string, unknown>, 'ampersand');

const cache = new Map<string, ValidateFunction>();

/** A validator for `#/components/schemas/{name}`, or an array of it. */
export function validatorFor(name: string, array = false): ValidateFunction {
  const key = `${name}${array ? '[]' : ''}`;
  let fn = cache.get(key);
  if (!fn) {
    const ref = { $ref: `ampersand#/components/schemas/${name}` };
    fn = ajv.compile(array ? { type: 'array', items: ref } : ref);
    cache.set(key, fn);
  }
  return fn;
}

/** Returns the ajv errors as text, or '' when the value conforms. */
export function specErrors(name: string, value: unknown, array = false): string {
  const fn = validatorFor(name, array);
  return fn(value) ? '' : ajv.errorsText(fn.errors);
}

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * A validator for the body of one response of the spec operation `operationId`
 * (e.g. `listOperations`): the schema of `status` (or `default`) for
 * `contentType`, with the spec's own $refs.
 */
export function responseValidatorFor(operationId: string, status: number, contentType: string): ValidateFunction {
  const key = `${operationId} ${status} ${contentType}`;
  let fn = cache.get(key);
  if (fn) return fn;
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if ((op as { operationId?: string }).operationId !== operationId) continue;
      const responses = (op as { responses: Record<string, { content?: Record<string, unknown> }> }).responses;
      const code = String(status) in responses ? String(status) : 'default';
      if (responses[code]?.content?.[contentType] === undefined) throw new Error(`${operationId} has no ${contentType} response for ${status}`);
      fn = ajv.compile({ $ref: `ampersand#/${pointer('paths', path, method, 'responses', code, 'content', contentType, 'schema')}` });
      cache.set(key, fn);
      return fn;
    }
  }
  throw new Error(`the spec has no operation ${operationId}`);
}

/** Returns the ajv errors of a response body as text, or '' when it conforms to the spec's response schema. */
export function responseErrors(operationId: string, status: number, contentType: string, value: unknown): string {
  const fn = responseValidatorFor(operationId, status, contentType);
  return fn(value) ? '' : ajv.errorsText(fn.errors);
}
