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
